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
    - share_within_5_min and missed_share are of all the owner's counted requests (missed ones included),
      the medians only of the answered ones: a low median with a high missed_share is a rep who is fast when
      they answer but drops many. The business-hours median counts only the owner's territory hours: 0 means
      most requests came in outside them and were answered before the next business day began.
    - Follow-ups: due = met + missed (the SLA has run out); pending ones (SLA still running) and future ones
      (a meeting not held yet) are not judged and only pending ones are shown.
    - Worst first = most misses of either kind (missed requests + missed follow-ups), then the highest
      missed share. Small owners can look extreme on shares: read the counts.
    - Names come from dim_owner (the CRM's owners, and the fallback queue).
-#}

{#- Parameters: tweak here, or override on the command line with --vars '{lookback_days: 30}' -#}
{#- Requests and follow-up triggers in the last N days up to the latest request in the mart (the data's
    "now", not the wall clock); none: all of them. -#}
{%- set lookback_days = var('lookback_days', none) -%}
{#- The "fast" bar of the SLA, in seconds (the project's 5 minutes by default). -#}
{%- set fast_seconds = var('speed_to_lead_fast_seconds', 300) -%}

with

speed_to_lead as (
    select * from {{ ref('fct_speed_to_lead') }}
),

follow_ups as (
    select * from {{ ref('fct_follow_ups') }}
),

owners as (
    select * from {{ ref('dim_owner') }}
),

latest as (
    select max(requested_at) as latest_request_at from speed_to_lead
),

requests_per_owner as (
    select
        speed_to_lead.owner_id,
        count(*) as requests,
        count(*) filter (where speed_to_lead.is_missed) as missed_requests,
        count(*) filter (where not speed_to_lead.is_missed
                         and speed_to_lead.latency_seconds <= {{ fast_seconds }}) as answered_within_5_min,
        -- median() skips the nulls of missed requests: the median of the answered ones
        median(speed_to_lead.latency_seconds) / 60.0 as median_latency_minutes,
        quantile_cont(speed_to_lead.latency_seconds, 0.9) / 60.0 as p90_latency_minutes,
        median(speed_to_lead.business_latency_seconds) / 60.0 as median_business_latency_minutes
    from speed_to_lead
    cross join latest
    {%- if lookback_days is not none %}
    where speed_to_lead.requested_at >= latest.latest_request_at - interval ({{ lookback_days }}) day
    {%- endif %}
    group by speed_to_lead.owner_id
),

follow_ups_per_owner as (
    select
        follow_ups.owner_id,
        count(*) filter (where follow_ups.sla_status in ('met', 'missed')) as follow_ups_due,
        count(*) filter (where follow_ups.sla_status = 'missed') as missed_follow_ups,
        count(*) filter (where follow_ups.sla_status = 'pending') as pending_follow_ups
    from follow_ups
    cross join latest
    {%- if lookback_days is not none %}
    where follow_ups.triggered_at >= latest.latest_request_at - interval ({{ lookback_days }}) day
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
        round(requests_per_owner.missed_requests / requests_per_owner.requests, 3) as missed_share,
        round(requests_per_owner.answered_within_5_min / requests_per_owner.requests, 3) as share_within_5_min,
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
