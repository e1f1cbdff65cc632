{#- The headline numbers, one row per UTC day (grain: day_utc, every day from the first to the last touch):
    inbound requests and their speed-to-lead (missed and open requests, median minutes, share within 5 minutes and
    missed share of the requests whose outcome is known: the day rows of mart_speed_to_lead_summary), touches and
    double touches (per 10,000 touches: the day rows of mart_double_touch_rates), sends and bounce / complaint
    rates over all sending domains, domains paused by the kill switch, signals, and closed-won revenue. -#}
with

touches as (
    select * from {{ ref('fct_touches') }}
    where counts_as_touch
),

speed_summary as (
    select * from {{ ref('mart_speed_to_lead_summary') }}
    where period_grain = 'day' and dimension = 'all'
),

double_touch_rates as (
    select * from {{ ref('mart_double_touch_rates') }}
    where period_grain = 'day' and pair_kind = 'all'
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
        period_start as day_utc,
        requests,
        missed_requests,
        open_requests,
        median_latency_minutes as median_speed_to_lead_minutes,
        share_within_5_min,
        missed_share
    from speed_summary
),

daily_double_touches as (
    select period_start as day_utc, touches, incidents as double_touches, incidents_per_10k_touches
    from double_touch_rates
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
        cast(coalesce(daily_double_touches.touches, 0) as bigint) as touches,
        cast(coalesce(daily_double_touches.double_touches, 0) as bigint) as double_touches,
        daily_double_touches.incidents_per_10k_touches as double_touches_per_10k,
        cast(coalesce(daily_sending.sends, 0) as bigint) as sends,
        cast(daily_sending.bounces as double) / nullif(daily_sending.sends, 0) as bounce_rate,
        cast(daily_sending.complaints as double) / nullif(daily_sending.sends, 0) as complaint_rate,
        cast(coalesce(daily_sending.paused_domains, 0) as bigint) as paused_domains,
        cast(coalesce(daily_signals.signals, 0) as bigint) as signals,
        cast(coalesce(daily_won.deals_won, 0) as bigint) as deals_won,
        coalesce(daily_won.won_revenue, 0) as won_revenue,
        cast(coalesce(daily_requests.missed_requests, 0) as bigint) as missed_requests,
        cast(coalesce(daily_requests.open_requests, 0) as bigint) as open_requests
    from days
    left join daily_requests on daily_requests.day_utc = days.day_utc
    left join daily_double_touches on daily_double_touches.day_utc = days.day_utc
    left join daily_sending on daily_sending.day_utc = days.day_utc
    left join daily_signals on daily_signals.day_utc = days.day_utc
    left join daily_won on daily_won.day_utc = days.day_utc
)

select * from final
