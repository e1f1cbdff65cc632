{#- Every live CRM deal with the parties it is associated with, resolved (grain: deal_id, party_object,
    crm_object_id; one row with no party for a deal without associations): a CRM company as its account
    (dim_account), a contact as its person (bridge) and that person's current account. The one place deals meet
    their associations: guardrails (open deals, customers), attribution, signal conversion and the funnel read it. -#}
with

deals as (
    select * from {{ ref('stg_hubspot__deals') }}
    where not is_archived
),

associations as (
    select * from {{ ref('stg_hubspot__associations') }}
    where from_object = 'deals' and to_object in ('companies', 'contacts')
),

accounts as (
    select * from {{ ref('dim_account') }}
),

bridge as (
    select * from {{ ref('bridge_person_identifier') }}
    where identifier_type = 'crm_contact_id'
),

persons as (
    select * from {{ ref('dim_person') }}
),

final as (
    select
        deals.deal_id,
        deals.deal_stage,
        deals.amount,
        deals.created_at,
        deals.close_date,
        associations.to_object as party_object,
        associations.to_object_id as crm_object_id,
        case when associations.to_object = 'companies' then accounts.account_id
             else persons.account_id end as account_id,
        bridge.person_id
    from deals
    left join associations on associations.from_object_id = deals.deal_id
    left join accounts
        on associations.to_object = 'companies' and accounts.crm_company_id = associations.to_object_id
    left join bridge
        on associations.to_object = 'contacts' and bridge.identifier_value = associations.to_object_id
    left join persons on persons.person_id = bridge.person_id
)

select * from final
