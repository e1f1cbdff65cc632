{#- Every sales-engagement mailing with the person of its prospect (grain: mailing_id): the one join of mailings to
    the identity bridge that the guardrails and the follow-ups read. -#}
with

mailings as (
    select * from {{ ref('stg_sales_engagement__mailings') }}
),

bridge as (
    select * from {{ ref('bridge_person_identifier') }}
),

final as (
    select
        mailings.*,
        bridge.person_id
    from mailings
    inner join bridge on bridge.identifier_id = 'prospect_id:' || cast(mailings.prospect_id as {{ dbt.type_string() }})
)

select * from final
