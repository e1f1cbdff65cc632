{#- The email touches of docs/kpis.md before identity (grain: touch_id): marketing email delivered (ESP delivered,
    emitter marketing:<campaign_id>) and sales email delivered (a mailing's deliveredAt, sales:<sequenceId>), each
    with the identifier node it reaches (email:<normalized address>, prospect_id:<id>) and the landing time of its
    record. fct_touches gives them their person by the bridge, so identity changes never rewrite this table.
    Incremental by day (docs/architecture.md): a run rewrites every day a touch landed since the last run falls on
    (a late one included), and the day a mailing landed again was delivered on before. -#}
{{ config(**incremental_by_partition('touch_day')) }}

with

esp_delivered as (
    select * from {{ ref('stg_esp__events') }}
    where event_type = 'delivered'
),

mailings as (
    select * from {{ ref('stg_sales_engagement__mailings') }}
),
{%- if is_incremental() %}

landed_records as (
    -- every record landed since the last run, with its day when it is a touch (a mailing's later version may no
    -- longer be one)
    select 'esp:' || esp_event_id as touch_id, cast(event_at as date) as touch_day
    from esp_delivered
    where {{ landed_after_high_water_mark() }}
    union all
    select 'mailing:' || cast(mailing_id as {{ dbt.type_string() }}), cast(delivered_at as date)
    from mailings
    where {{ landed_after_high_water_mark() }}
),

rewritten_days as (
    select touch_day from landed_records where touch_day is not null
    union
    -- the day a touch landed again was on before
    select kept.touch_day from {{ this }} as kept inner join landed_records on landed_records.touch_id = kept.touch_id
),

esp_events as (
    -- every touch of the rewritten days, before its address is normalized
    select * from esp_delivered
    where cast(event_at as date) in (select touch_day from rewritten_days)
),

sales_mailings as (
    select * from mailings
    where cast(delivered_at as date) in (select touch_day from rewritten_days)
),
{%- else %}

esp_events as (
    select * from esp_delivered
),

sales_mailings as (
    select * from mailings
),
{%- endif %}

marketing_emails as (
    select
        'esp:' || esp_event_id as touch_id,
        event_at as touched_at,
        'email:' || {{ normalize_email('recipient_email') }} as identifier_id,
        'marketing:' || coalesce(campaign_id, 'unknown') as emitter,
        'marketing' as emitter_kind,
        'email' as channel,
        sending_domain,
        cast(null as {{ dbt.type_string() }}) as owner_id,
        landed_at
    from esp_events
),

sales_emails as (
    select
        'mailing:' || cast(mailing_id as {{ dbt.type_string() }}) as touch_id,
        delivered_at as touched_at,
        'prospect_id:' || cast(prospect_id as {{ dbt.type_string() }}) as identifier_id,
        'sales:' || cast(sequence_id as {{ dbt.type_string() }}) as emitter,
        'sales' as emitter_kind,
        'email' as channel,
        sending_domain,
        cast(owner_id as {{ dbt.type_string() }}) as owner_id,
        landed_at
    from sales_mailings
    where delivered_at is not null
),

final as (
    select *, cast(touched_at as date) as touch_day from marketing_emails
    union all
    select *, cast(touched_at as date) as touch_day from sales_emails
)

select * from final
