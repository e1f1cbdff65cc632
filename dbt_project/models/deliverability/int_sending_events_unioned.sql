{#- The deliverability events of docs/kpis.md, one row per event (grain: source, event_key, event_kind): sends (ESP
    processed; a mailing with deliveredAt or bouncedAt, on the earlier of the two), bounces (ESP bounce of either
    type; a mailing's bouncedAt), complaints (ESP spamreport; markedAsSpamAt), unsubscribes (ESP unsubscribe and
    group_unsubscribe; unsubscribedAt), each on the UTC day it happened, by sending domain, with the landing time of
    its record (landed_at). Incremental by day (docs/architecture.md): a run recomputes every day an event landed
    since the last run falls on, and the days the earlier version of a re-exported mailing had events on. -#}
{{ config(**incremental_by_partition('event_day')) }}
{%- set incremental = is_incremental() and incremental_columns_ready(['landed_at']) %}

with

esp_events as (
    select * from {{ ref('stg_esp__events') }}
),

mailings as (
    select * from {{ ref('stg_sales_engagement__mailings') }}
),

esp as (
    select
        'esp' as source,
        esp_event_id as event_key,
        case event_type
            when 'processed' then 'send'
            when 'bounce' then 'bounce'
            when 'spamreport' then 'complaint'
            when 'unsubscribe' then 'unsubscribe'
            when 'group_unsubscribe' then 'unsubscribe'
        end as event_kind,
        sending_domain,
        event_at,
        landed_at
    from esp_events
    where event_type in ('processed', 'bounce', 'spamreport', 'unsubscribe', 'group_unsubscribe')
),

mailing_events as (
    select 'sales_engagement' as source, cast(mailing_id as {{ dbt.type_string() }}) as event_key, 'send' as event_kind,
           sending_domain,
           case when delivered_at is null then bounced_at
                when bounced_at is null then delivered_at
                else least(delivered_at, bounced_at) end as event_at,
           landed_at
    from mailings
    where delivered_at is not null or bounced_at is not null
    union all
    select 'sales_engagement', cast(mailing_id as {{ dbt.type_string() }}), 'bounce', sending_domain, bounced_at, landed_at
    from mailings where bounced_at is not null
    union all
    select 'sales_engagement', cast(mailing_id as {{ dbt.type_string() }}), 'complaint', sending_domain, marked_as_spam_at, landed_at
    from mailings where marked_as_spam_at is not null
    union all
    select 'sales_engagement', cast(mailing_id as {{ dbt.type_string() }}), 'unsubscribe', sending_domain, unsubscribed_at, landed_at
    from mailings where unsubscribed_at is not null
),

events as (
    select source, event_key, event_kind, sending_domain, event_at, cast(event_at as date) as event_day, landed_at
    from esp
    where sending_domain is not null
    union all
    select source, event_key, event_kind, sending_domain, event_at, cast(event_at as date), landed_at
    from mailing_events
    where sending_domain is not null
),
{%- if incremental %}

landed_records as (
    -- every record landed since the last run, with events or not (a mailing's later version may have none)
    select 'esp' as source, esp_event_id as event_key from esp_events where {{ landed_after_high_water_mark() }}
    union all
    select 'sales_engagement', cast(mailing_id as {{ dbt.type_string() }}) from mailings where {{ landed_after_high_water_mark() }}
),

rewritten_days as (
    select events.event_day
    from events
    inner join landed_records on landed_records.source = events.source and landed_records.event_key = events.event_key
    union
    -- a record landed again (a mailing's later version) may have left a day: its earlier events' days
    select kept.event_day
    from {{ this }} as kept
    inner join landed_records on landed_records.source = kept.source and landed_records.event_key = kept.event_key
),
{%- endif %}

final as (
    select * from events
    {%- if incremental %}
    where event_day in (select event_day from rewritten_days)
    {%- endif %}
)

select * from final
