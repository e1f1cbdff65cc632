{#- The sending domains the deliverability kill switch pauses now (docs/kpis.md, dim_sending_domain_status).
    Grain: sending_domain; empty when every domain is active. -#}
with

statuses as (
    select * from {{ ref('dim_sending_domain_status') }}
),

final as (
    select sending_domain, paused_since, pause_reason
    from statuses
    where status = 'paused'
)

select * from final
