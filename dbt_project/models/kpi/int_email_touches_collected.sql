{#- The email touches of docs/kpis.md before identity (grain: touch_id): marketing email delivered (ESP delivered,
    emitter marketing:<campaign_id>) and sales email delivered (a mailing's deliveredAt, sales:<sequenceId>), each
    with the identifier node it reaches (email:<normalized address>, prospect_id:<id>) and the landing time of its
    record. fct_touches gives them their person by the bridge, so identity changes never rewrite this table.
    Incremental by day (docs/architecture.md): a run rewrites every day a touch landed since the last run falls on
    (a late one included), and the day a mailing landed again was delivered on before. -#}
{{ config(**incremental_by_partition('touch_day')) }}

with

esp_events as (
    select * from {{ ref('stg_esp__events') }}
),

mailings as (
    select * from {{ ref('stg_sales_engagement__mailings') }}
),

marketing_emails as (
    select
        'esp:' || esp_event_id as touch_id,
        event_at as touched_at,
        'email:' || {{ normalize_email('recipient_email') }} as identifier_id,
        'marketing:' || coalesce(campaign_id, 'unknown') as emitter,
        'marketing' as emitter_kind,
        'email' as channel,
        sending_domain,
        cast(null as varchar) as owner_id,
        landed_at
    from esp_events
    where event_type = 'delivered'
),

sales_emails as (
    select
        'mailing:' || cast(mailing_id as varchar) as touch_id,
        delivered_at as touched_at,
        'prospect_id:' || cast(prospect_id as varchar) as identifier_id,
        'sales:' || cast(sequence_id as varchar) as emitter,
        'sales' as emitter_kind,
        'email' as channel,
        sending_domain,
        cast(owner_id as varchar) as owner_id,
        landed_at
    from mailings
    where delivered_at is not null
),

touches as (
    select *, cast(touched_at as date) as touch_day from marketing_emails
    union all
    select *, cast(touched_at as date) as touch_day from sales_emails
),
{%- if is_incremental() %}

landed_records as (
    -- every record landed since the last run, a touch or not (a mailing's later version may no longer be one)
    select 'esp:' || esp_event_id as touch_id from esp_events where {{ landed_after_high_water_mark() }}
    union all
    select 'mailing:' || cast(mailing_id as varchar) from mailings where {{ landed_after_high_water_mark() }}
),

rewritten_days as (
    select touches.touch_day from touches inner join landed_records on landed_records.touch_id = touches.touch_id
    union
    select kept.touch_day from {{ this }} as kept inner join landed_records on landed_records.touch_id = kept.touch_id
),
{%- endif %}

final as (
    select touch_id, touched_at, identifier_id, emitter, emitter_kind, channel, sending_domain, owner_id, landed_at,
           touch_day
    from touches
    {%- if is_incremental() %}
    where touch_day in (select touch_day from rewritten_days)
    {%- endif %}
)

select * from final
