{#-
    Which owners miss the speed-to-lead SLA (and their follow-ups)?

    One row per owner (CRM owner id, or the fallback queue), worst first: the inbound requests (demo requests,
    contact-sales forms; folded repeats not counted again) credited to them, how many got no sales touch within
    speed_to_lead_window_days (missed), the share answered within 5 minutes, the median latency of the answered
    ones; and beside it the follow-ups they owed after a reply or a held meeting and how many they let pass
    their grade's SLA (seeds/sla_tiers).

    How to read it:
    - Owner of a request = the rep whose touch answered it; for a missed request, the owner of the person's
      CRM contact, else the fallback queue (var fallback_owner_queue). A 'queue:...' row is not a person:
      its misses are requests nobody owned, a routing gap rather than a slow rep.
    - The speed-to-lead figures are read from mart_speed_to_lead_cube (their one definition, docs/kpis.md): shares
      are of the requests whose outcome is known (answered, or missed with the 7-day window closed); open
      requests (window still open at as_of) are counted apart. The medians are of the answered ones: a low median
      with a high missed_share is a rep who is fast when they answer but drops many. The business-hours median
      counts only the owner's territory hours.
    - Follow-ups: due = met + missed (the SLA has run out); pending ones (SLA still running) and future ones
      (a meeting not held yet) are not judged and only pending ones are shown.
    - Worst first = most misses of either kind (missed requests + missed follow-ups), then the highest
      missed share. Small owners can look extreme on shares: read the counts.
    - Names come from dim_owner (the CRM's owners, and the fallback queue).
-#}

{#- Parameters: tweak here, or override on the command line with --vars '{lookback_weeks: 4}' -#}
{#- The last N whole ISO weeks of requests up to the latest one (the data's "now", not the wall clock), and the
    follow-ups triggered since the first of those weeks; none: all of them. -#}
{%- set lookback_weeks = var('lookback_weeks', none) -%}

with

cube as (
    select * from {{ ref('mart_speed_to_lead_cube') }}
),

follow_ups as (
    select * from {{ ref('fct_follow_ups') }}
),

owners as (
    select * from {{ ref('dim_owner') }}
),

span as (
    -- the whole-weeks span the question asks about
    select period_start, period_end
    from cube
    where period_grain = 'weeks' and owner_id = 'all' and request_type = 'all' and segment = 'all'
    {%- if lookback_weeks is none %}
        and covers_all_weeks
    {%- else %}
        and period_end = (select max(period_end) from cube where period_grain = 'weeks')
        and period_weeks = least({{ lookback_weeks }},
                                 (select max(period_weeks) from cube where period_grain = 'weeks'))
    {%- endif %}
),

requests_per_owner as (
    select cube.*
    from cube
    inner join span on span.period_start = cube.period_start and span.period_end = cube.period_end
    where cube.period_grain = 'weeks' and cube.owner_id <> 'all' and cube.request_type = 'all'
        and cube.segment = 'all'
),

follow_ups_per_owner as (
    select
        follow_ups.owner_id,
        count(*) filter (where follow_ups.sla_status in ('met', 'missed')) as follow_ups_due,
        count(*) filter (where follow_ups.sla_status = 'missed') as missed_follow_ups,
        count(*) filter (where follow_ups.sla_status = 'pending') as pending_follow_ups
    from follow_ups
    cross join span
    {%- if lookback_weeks is not none %}
    where follow_ups.triggered_at >= span.period_start
    {%- endif %}
    group by follow_ups.owner_id
),

final as (
    select
        coalesce(requests_per_owner.owner_id, follow_ups_per_owner.owner_id) as owner_id,
        coalesce(owners.owner_name, requests_per_owner.owner_id, follow_ups_per_owner.owner_id) as owner_name,
        coalesce(requests_per_owner.owner_id, follow_ups_per_owner.owner_id) like 'queue:%' as is_queue,
        coalesce(requests_per_owner.requests, 0) as requests,
        coalesce(requests_per_owner.missed_requests, 0) as missed_requests,
        coalesce(requests_per_owner.open_requests, 0) as open_requests,
        round(requests_per_owner.missed_share, 3) as missed_share,
        round(requests_per_owner.share_within_5_min, 3) as share_within_5_min,
        round(requests_per_owner.median_latency_minutes, 1) as median_latency_minutes,
        round(requests_per_owner.p90_latency_minutes, 1) as p90_latency_minutes,
        round(requests_per_owner.median_business_latency_minutes, 1) as median_business_latency_minutes,
        coalesce(follow_ups_per_owner.follow_ups_due, 0) as follow_ups_due,
        coalesce(follow_ups_per_owner.missed_follow_ups, 0) as missed_follow_ups,
        round(follow_ups_per_owner.missed_follow_ups / nullif(follow_ups_per_owner.follow_ups_due, 0), 3)
            as missed_follow_up_share,
        coalesce(follow_ups_per_owner.pending_follow_ups, 0) as pending_follow_ups,
        coalesce(requests_per_owner.missed_requests, 0) + coalesce(follow_ups_per_owner.missed_follow_ups, 0)
            as total_missed
    from requests_per_owner
    full outer join follow_ups_per_owner on follow_ups_per_owner.owner_id = requests_per_owner.owner_id
    left join owners on owners.owner_id = coalesce(requests_per_owner.owner_id, follow_ups_per_owner.owner_id)
)

select * from final
order by total_missed desc, missed_share desc nulls last, owner_id
