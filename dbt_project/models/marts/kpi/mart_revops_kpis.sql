{#- The headline numbers, one row per UTC day (grain: day_utc, every day from the first to the last touch):
    inbound requests and their speed-to-lead (median minutes, share within 5 minutes, missed share), touches and
    double touches (per 10,000 touches), sends and bounce / complaint rates over all sending domains, domains
    paused by the kill switch, signals, and closed-won revenue. -#}
with

touches as (
    select * from {{ ref('fct_touches') }}
    where counts_as_touch
),

double_touches as (
    select * from {{ ref('fct_double_touches') }}
),

speed as (
    select * from {{ ref('fct_speed_to_lead') }}
),

deliverability as (
    select * from {{ ref('fct_deliverability_daily') }}
),

signals as (
    select * from {{ ref('fct_signals') }}
),

deals as (
    select * from {{ ref('stg_hubspot__deals') }}
    where deal_stage = 'closedwon' and not is_archived
),

bounds as (
    select cast(min(touched_at) as date) as first_day, cast(max(touched_at) as date) as last_day from touches
),

days as (
    select cast({{ dbt.dateadd('day', 'day_offset - 1', 'first_day') }} as date) as day_utc
    from (
        select first_day, {{ explode_range(dbt.datediff('first_day', 'last_day', 'day') ~ ' + 1') }} as day_offset
        from bounds
    ) as offsets
),

daily_requests as (
    select
        cast(requested_at as date) as day_utc,
        count(*) as requests,
        {{ percentile('latency_seconds', 0.5) }} / 60.0 as median_speed_to_lead_minutes,
        avg(case when latency_seconds <= {{ var('speed_to_lead_fast_seconds') }} then 1.0 else 0.0 end)
            as share_within_5_min,
        avg(case when is_missed then 1.0 else 0.0 end) as missed_share
    from speed
    group by cast(requested_at as date)
),

daily_touches as (
    select cast(touched_at as date) as day_utc, count(*) as touches from touches group by cast(touched_at as date)
),

daily_double_touches as (
    select cast(touched_at as date) as day_utc, count(*) as double_touches
    from double_touches group by cast(touched_at as date)
),

daily_sending as (
    select
        day_utc,
        sum(sends) as sends,
        sum(bounces) as bounces,
        sum(complaints) as complaints,
        sum(case when is_paused then 1 else 0 end) as paused_domains
    from deliverability
    group by day_utc
),

daily_signals as (
    select cast(signal_at as date) as day_utc, count(*) as signals from signals group by cast(signal_at as date)
),

daily_won as (
    select cast(close_date as date) as day_utc, count(*) as deals_won, sum(amount) as won_revenue
    from deals group by cast(close_date as date)
),

final as (
    select
        days.day_utc,
        cast(coalesce(daily_requests.requests, 0) as bigint) as inbound_requests,
        daily_requests.median_speed_to_lead_minutes,
        daily_requests.share_within_5_min,
        daily_requests.missed_share,
        cast(coalesce(daily_touches.touches, 0) as bigint) as touches,
        cast(coalesce(daily_double_touches.double_touches, 0) as bigint) as double_touches,
        coalesce(daily_double_touches.double_touches, 0) * 10000.0 / nullif(daily_touches.touches, 0)
            as double_touches_per_10k,
        cast(coalesce(daily_sending.sends, 0) as bigint) as sends,
        daily_sending.bounces * 1.0 / nullif(daily_sending.sends, 0) as bounce_rate,
        daily_sending.complaints * 1.0 / nullif(daily_sending.sends, 0) as complaint_rate,
        cast(coalesce(daily_sending.paused_domains, 0) as bigint) as paused_domains,
        cast(coalesce(daily_signals.signals, 0) as bigint) as signals,
        cast(coalesce(daily_won.deals_won, 0) as bigint) as deals_won,
        coalesce(daily_won.won_revenue, 0) as won_revenue
    from days
    left join daily_requests on daily_requests.day_utc = days.day_utc
    left join daily_touches on daily_touches.day_utc = days.day_utc
    left join daily_double_touches on daily_double_touches.day_utc = days.day_utc
    left join daily_sending on daily_sending.day_utc = days.day_utc
    left join daily_signals on daily_signals.day_utc = days.day_utc
    left join daily_won on daily_won.day_utc = days.day_utc
)

select * from final
