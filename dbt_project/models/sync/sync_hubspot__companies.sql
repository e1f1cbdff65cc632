{#- The desired state of the CRM companies (docs/sync.md): the account score of every account with a CRM company
    (grain: sync_key, keyed by the company id for batch/update). payload_hash as in sync_hubspot__contacts. -#}
with

accounts as (
    select * from {{ ref('dim_account') }}
),

account_scores as (
    select * from {{ ref('fct_account_scores') }}
),

mapped as (
    select
        'id:' || accounts.crm_company_id as sync_key,
        accounts.account_id,
        accounts.crm_company_id,
        cast(cast(round(account_scores.account_score) as integer) as {{ dbt.type_string() }}) as revops_account_score,
        coalesce(account_scores.top_reasons, '') as revops_account_reasons
    from accounts
    inner join account_scores on account_scores.account_id = accounts.account_id
    where accounts.crm_company_id is not null
),

final as (
    select
        mapped.*,
        md5(concat_ws('|', revops_account_score, revops_account_reasons)) as payload_hash
    from mapped
)

select * from final
