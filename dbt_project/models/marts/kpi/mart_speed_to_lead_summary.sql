{#- Speed-to-lead by UTC day, by ISO week of the request and over all requests (grain: period_grain,
    period_start, dimension, dimension_value; period_start null for 'all'): for all requests and split by owner, request type and segment — median and p90 latency of
    the answered requests (minutes, and the median in business hours), the share answered within 5 minutes and
    within 1 hour, and the missed share, all of all counted requests. -#}
with

speed as (
    select * from {{ ref('fct_speed_to_lead') }}
),

periods as (
    select 'day' as period_grain, cast(requested_at as date) as period_start, speed.* from speed
    union all
    select 'week', request_week, speed.* from speed
    union all
    select 'all', cast(null as date), speed.* from speed
),

grouped as (
    select
        period_grain,
        period_start,
        case
            when grouping(owner_id) = 0 then 'owner'
            when grouping(request_type) = 0 then 'request_type'
            when grouping(segment) = 0 then 'segment'
            else 'all'
        end as dimension,
        coalesce(owner_id, request_type, segment, 'all') as dimension_value,
        count(*) as requests,
        sum(case when is_missed then 1 else 0 end) as missed_requests,
        {{ percentile('latency_seconds', 0.5) }} / 60.0 as median_latency_minutes,
        {{ percentile('latency_seconds', 0.9) }} / 60.0 as p90_latency_minutes,
        {{ percentile('business_latency_seconds', 0.5) }} / 60.0 as median_business_latency_minutes,
        avg(case when latency_seconds <= {{ var('speed_to_lead_fast_seconds') }} then 1.0 else 0.0 end)
            as share_within_5_min,
        avg(case when latency_seconds <= {{ var('speed_to_lead_hour_seconds') }} then 1.0 else 0.0 end)
            as share_within_1_hour,
        avg(case when is_missed then 1.0 else 0.0 end) as missed_share
    from periods
    group by grouping sets (
        (period_grain, period_start),
        (period_grain, period_start, owner_id),
        (period_grain, period_start, request_type),
        (period_grain, period_start, segment)
    )
),

final as (
    select
        period_grain,
        period_start,
        dimension,
        dimension_value,
        cast(requests as bigint) as requests,
        cast(missed_requests as bigint) as missed_requests,
        median_latency_minutes,
        p90_latency_minutes,
        median_business_latency_minutes,
        share_within_5_min,
        share_within_1_hour,
        missed_share
    from grouped
)

select * from final
