{#- Speed-to-lead for every filter the dashboard offers: the one model that computes the speed-to-lead measures of
    docs/kpis.md (mart_speed_to_lead_summary and mart_revops_kpis select its rows; the dashboard and `revops kpis`
    read them). Grain: period_grain, period_start, period_end, owner_id, request_type, segment, where a dimension
    is 'all' when not split on.
    - period_grain 'weeks': every span of whole ISO weeks of the request, from one week to all of them
      (period_start the Monday of its first week, period_end the Sunday of its last, period_weeks the weeks in it),
      for every combination of owner, request type and segment (each either one value or 'all'). Medians do not
      add up across weeks or owners, so each span and slice is computed from its own requests.
    - period_grain 'day': each UTC day of the request, over all requests and split by one dimension at a time.
    Per row: requests (counted), answered, missed, open (no touch yet, window still open at as_of) and known
    outcome (answered + missed); median and p90 latency (minutes) of the answered, the median in business hours;
    the shares answered within 5 minutes and within 1 hour and the missed share, each of the known outcomes and
    computed from this row's counts (never an average of averages). -#}
with

speed as (
    select * from {{ ref('fct_speed_to_lead') }}
),

spans as (
    {{ whole_week_spans('speed', 'request_week') }}
),

periods as (
    -- each request in its UTC day and in every span of weeks its week falls in
    select
        'day' as period_grain,
        cast(speed.requested_at as date) as period_start,
        cast(speed.requested_at as date) as period_end,
        cast(null as integer) as period_weeks,
        false as covers_all_weeks,
        speed.*
    from speed
    union all
    select 'weeks', spans.period_start, spans.period_end, spans.period_weeks, spans.covers_all_weeks, speed.*
    from spans
    inner join speed on speed.request_week between spans.period_start and spans.last_week_start
),

grouped as (
    select
        period_grain, period_start, period_end, period_weeks, covers_all_weeks,
        case when grouping(owner_id) = 0 then owner_id else 'all' end as owner_id,
        case when grouping(request_type) = 0 then request_type else 'all' end as request_type,
        case when grouping(segment) = 0 then segment else 'all' end as segment,
        count(*) as requests,
        count(*) filter (where outcome = 'answered') as answered_requests,
        count(*) filter (where outcome = 'missed') as missed_requests,
        count(*) filter (where outcome = 'open') as open_requests,
        count(*) filter (where outcome in ('answered', 'missed')) as known_outcome_requests,
        -- latency is null unless answered: the percentiles are of the answered requests
        {{ percentile('latency_seconds', 0.5) }} / 60.0 as median_latency_minutes,
        {{ percentile('latency_seconds', 0.9) }} / 60.0 as p90_latency_minutes,
        {{ percentile('business_latency_seconds', 0.5) }} / 60.0 as median_business_latency_minutes,
        count(*) filter (where answered_within_5_min) as answered_within_5_min,
        count(*) filter (where answered_within_1_hour) as answered_within_1_hour
    from periods
    -- every combination of owner, request type and segment, each one value or rolled up ('all')
    group by period_grain, period_start, period_end, period_weeks, covers_all_weeks,
             cube(owner_id, request_type, segment)
),

final as (
    select
        period_grain, period_start, period_end, period_weeks, covers_all_weeks, owner_id, request_type, segment,
        requests, answered_requests, missed_requests, open_requests, known_outcome_requests,
        median_latency_minutes, p90_latency_minutes, median_business_latency_minutes,
        cast(answered_within_5_min as double) / nullif(known_outcome_requests, 0) as share_within_5_min,
        cast(answered_within_1_hour as double) / nullif(known_outcome_requests, 0) as share_within_1_hour,
        cast(missed_requests as double) / nullif(known_outcome_requests, 0) as missed_share
    from grouped
    -- days: over all requests and by one dimension at a time (the summary's rows); spans: every combination
    where period_grain = 'weeks'
        or (case when owner_id = 'all' then 0 else 1 end + case when request_type = 'all' then 0 else 1 end
            + case when segment = 'all' then 0 else 1 end) <= 1
)

select * from final
