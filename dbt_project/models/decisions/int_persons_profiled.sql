{#- What the decisions read of each person's current account (dim_account) and primary CRM contact (grain:
    person_id): the title, the account's size, industry, country and owner, the contact's country and owner. Fit
    scores the profile, routing takes the owner from it. -#}
with

persons as (
    select * from {{ ref('dim_person') }}
),

accounts as (
    select * from {{ ref('dim_account') }}
),

contacts as (
    select * from {{ ref('stg_hubspot__contacts') }}
),

final as (
    select
        persons.person_id,
        persons.account_id,
        persons.primary_crm_contact_id,
        persons.job_title,
        accounts.employee_count,
        accounts.industry,
        accounts.country as account_country,
        accounts.owner_id as account_owner_id,
        contacts.country as contact_country,
        contacts.owner_id as contact_owner_id
    from persons
    left join accounts on accounts.account_id = persons.account_id
    left join contacts on contacts.contact_id = persons.primary_crm_contact_id
)

select * from final
