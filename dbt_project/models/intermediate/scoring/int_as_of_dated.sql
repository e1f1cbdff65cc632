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
    -- one row either way: with var as_of set, a select over latest_events (5 rows) would repeat it five times
    select
        {% if var('as_of') %}cast('{{ var("as_of") }}' as timestamp)
        {%- else %}coalesce(latest.latest_at, {{ utc_now() }}){% endif %} as as_of
    from (select max(latest_at) as latest_at from latest_events) as latest
)

select * from final
