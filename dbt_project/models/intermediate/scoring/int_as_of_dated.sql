{#- The moment the decision models treat as now (one row): var as_of, else the latest event in the data (ESP,
    Segment, sales engagement, CRM activity), so a rebuild of old data scores it as it was then; a warehouse with
    no events yet uses the current time. -#}
with

latest_events as (
    select max(event_at) as latest_at from {{ ref('stg_esp__events') }}
    union all
    select max(occurred_at) from {{ ref('stg_segment__events') }}
    union all
    select max(updated_at) from {{ ref('stg_sales_engagement__mailings') }}
    union all
    select max(created_at) from {{ ref('stg_hubspot__meetings') }}
    union all
    select max(call_at) from {{ ref('stg_hubspot__calls') }}
),

final as (
    select
        {% if var('as_of') %}cast('{{ var("as_of") }}' as timestamp){% else %}coalesce(max(latest_at), {{ utc_now() }}){% endif %}
            as as_of
    from latest_events
)

select * from final
