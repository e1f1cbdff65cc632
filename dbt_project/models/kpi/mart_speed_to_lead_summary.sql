{#- Speed-to-lead by UTC day, by ISO week of the request and over all requests (grain: period_grain,
    period_start, dimension, dimension_value; period_start null for 'all'): for all requests and split by owner,
    request type and segment. The rows of mart_speed_to_lead_cube with at most one dimension set (a day, a span of
    one week, the span of all weeks); the measures are computed there, not here: counted, answered, missed and
    open requests, median and p90 latency of the answered, and the shares within 5 minutes, within 1 hour and
    missed of the requests whose outcome is known. -#}
with

cube as (
    select * from {{ ref('mart_speed_to_lead_cube') }}
    where (case when owner_id = 'all' then 0 else 1 end + case when request_type = 'all' then 0 else 1 end
           + case when segment = 'all' then 0 else 1 end) <= 1
),

periods as (
    select
        case when period_grain = 'day' then 'day' else 'week' end as period_grain,
        period_start,
        owner_id,
        request_type,
        segment,
        requests,
        answered_requests,
        missed_requests,
        open_requests,
        known_outcome_requests,
        median_latency_minutes,
        p90_latency_minutes,
        median_business_latency_minutes,
        share_within_5_min,
        share_within_1_hour,
        missed_share
    from cube
    where period_grain = 'day' or period_weeks = 1
    union all
    select
        'all', cast(null as date), owner_id, request_type, segment, requests, answered_requests, missed_requests,
        open_requests, known_outcome_requests, median_latency_minutes, p90_latency_minutes,
        median_business_latency_minutes, share_within_5_min, share_within_1_hour, missed_share
    from cube
    where period_grain = 'weeks' and covers_all_weeks
),

final as (
    select
        periods.period_grain,
        periods.period_start,
        case
            when periods.owner_id <> 'all' then 'owner'
            when periods.request_type <> 'all' then 'request_type'
            when periods.segment <> 'all' then 'segment'
            else 'all'
        end as dimension,
        case
            when periods.owner_id <> 'all' then periods.owner_id
            when periods.request_type <> 'all' then periods.request_type
            else periods.segment
        end as dimension_value,
        periods.requests,
        periods.missed_requests,
        periods.median_latency_minutes,
        periods.p90_latency_minutes,
        periods.median_business_latency_minutes,
        periods.share_within_5_min,
        periods.share_within_1_hour,
        periods.missed_share,
        periods.answered_requests,
        periods.open_requests,
        periods.known_outcome_requests
    from periods
)

select * from final
