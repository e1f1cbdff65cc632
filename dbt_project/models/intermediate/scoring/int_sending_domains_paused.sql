{#- The sending domains the deliverability kill switch has paused now (DESIGN 6). The kill switch is built by the
    KPI marts (dim_sending_domain_status); until that model exists every domain counts as active, so this model
    is empty. Grain: sending_domain. -#}
{%- set kill_switch = adapter.get_relation(database=target.database, schema=target.schema,
                                            identifier='dim_sending_domain_status') if execute else none -%}
with

{% if kill_switch %}
statuses as (
    select * from {{ kill_switch }}
),

final as (
    select sending_domain, paused_since, pause_reason
    from statuses
    where status = 'paused'
)
{% else %}
final as (
    select
        cast(null as varchar) as sending_domain,
        cast(null as date) as paused_since,
        cast(null as varchar) as pause_reason
    where 1 = 0
)
{% endif %}

select * from final
