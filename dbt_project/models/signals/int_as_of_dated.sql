{#- The moment the decision models treat as now (one row): var as_of, else the latest event in the data (ESP,
    Segment, sales engagement, CRM activity) that is not later than its own landing time (docs/kpis.md, as_of):
    an event dated after it was landed has not happened, so even a far-future time that got past landing cannot
    move as_of (a year-9999 event once took grade A from 24 people to 0). A rebuild of old data scores it as it
    was then; a warehouse with no events yet uses the current time. -#}
with

esp_events as (
    select event_at as event_at, {{ tz_to_utc('landed_at') }} as landed_at from {{ ref('stg_esp__events') }}
),

segment_events as (
    select occurred_at as event_at, {{ tz_to_utc('landed_at') }} as landed_at from {{ ref('stg_segment__events') }}
),

mailings as (
    select updated_at as event_at, {{ tz_to_utc('landed_at') }} as landed_at
    from {{ ref('stg_sales_engagement__mailings') }}
),

meetings as (
    select created_at as event_at, {{ tz_to_utc('landed_at') }} as landed_at from {{ ref('stg_hubspot__meetings') }}
),

calls as (
    select call_at as event_at, {{ tz_to_utc('landed_at') }} as landed_at from {{ ref('stg_hubspot__calls') }}
),

events as (
    select * from esp_events
    union all
    select * from segment_events
    union all
    select * from mailings
    union all
    select * from meetings
    union all
    select * from calls
),

final as (
    -- one row either way, also with var as_of set
    select
        {% if var('as_of') %}cast('{{ var("as_of") }}' as timestamp)
        {%- else %}coalesce(latest.latest_at, {{ utc_now() }}){% endif %} as as_of
    from (select max(event_at) as latest_at from events where event_at <= landed_at) as latest
)

select * from final
