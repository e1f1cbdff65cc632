{#- Speed-to-lead per counted inbound request (docs/kpis.md, grain: request_id): the first sales touch of the same
    person at or after the request and before request + speed_to_lead_window_days (ties by touch id) and its
    latency. The outcome: answered (a touch in the window); else open while the window is still open at as_of
    (int_as_of_dated: request + window > as_of, "not answered yet"); else missed. The thresholds of the shares are
    applied here, once per request, by macros/kpi_speed_to_lead.sql: answered_within_5_min (latency <=
    speed_to_lead_fast_seconds), answered_within_1_hour (<= speed_to_lead_hour_seconds), the latency bucket.
    The owner (of the touch; for a request without one, missed or open, the owner of the person's earliest-created
    CRM contact that has one, else the fallback queue), the request type and the account's segment (dim_account, from seeds/segment_bands).
    business_latency_seconds counts only the business hours (Monday to Friday, local hours of seeds/territories)
    of the owner's territory, in its home office's time zone. -#}
with

requests as (
    select * from {{ ref('fct_inbound_requests') }}
    where is_counted
),

touches as (
    select * from {{ ref('fct_touches') }}
    where is_sales_touch
),

contacts as (
    select * from {{ ref('int_contacts_resolved') }}
),

accounts as (
    select * from {{ ref('dim_account') }}
),

owners as (
    select * from {{ ref('stg_hubspot__owners') }}
),

territories as (
    select * from {{ ref('territories') }}
    where is_territory_home
),

as_of as (
    select as_of from {{ ref('int_as_of_dated') }}
),

first_touches as (
    select request_id, touch_id, touched_at, owner_id, channel
    from (
        select
            requests.request_id,
            touches.touch_id,
            touches.touched_at,
            touches.owner_id,
            touches.channel,
            row_number() over (partition by requests.request_id order by touches.touched_at nulls last, touches.touch_id nulls last)
                as touch_rank
        from requests
        inner join touches
            on touches.person_id = requests.person_id
            and touches.touched_at >= requests.requested_at
            and touches.touched_at < {{ dbt.dateadd('day', var('speed_to_lead_window_days'), 'requests.requested_at') }}
    ) as ranked
    where touch_rank = 1
),

contact_owners as (
    -- the owner of the person's earliest-created CRM contact that has one
    select person_id, owner_id
    from (
        select
            person_id,
            owner_id,
            row_number() over (partition by person_id order by created_at nulls last, contact_id nulls last) as contact_rank
        from contacts
        where owner_id is not null
    ) as ranked
    where contact_rank = 1
),

measured as (
    select
        requests.*,
        cast({{ dbt.date_trunc('week', 'requests.requested_at') }} as date) as request_week,
        first_touches.touch_id as first_touch_id,
        first_touches.touched_at as first_touched_at,
        first_touches.channel as first_touch_channel,
        {{ seconds_between('requests.requested_at', 'first_touches.touched_at') }} as latency_seconds,
        {{ dbt.dateadd('day', var('speed_to_lead_window_days'), 'requests.requested_at') }} as window_closes_at,
        case
            when first_touches.touch_id is not null then 'answered'
            when {{ dbt.dateadd('day', var('speed_to_lead_window_days'), 'requests.requested_at') }} > as_of.as_of
                then 'open'
            else 'missed'
        end as outcome,
        coalesce(first_touches.owner_id, contact_owners.owner_id, '{{ var("fallback_owner_queue") }}') as owner_id,
        coalesce(accounts.segment, 'unknown') as segment
    from requests
    left join first_touches on first_touches.request_id = requests.request_id
    left join contact_owners on contact_owners.person_id = requests.person_id
    left join accounts on accounts.account_id = requests.account_id
    cross join as_of
),

local_spans as (
    select
        measured.request_id,
        {{ utc_to_local('measured.requested_at', 'territories.time_zone') }} as local_start,
        {{ utc_to_local('measured.first_touched_at', 'territories.time_zone') }} as local_end,
        territories.business_hours_start,
        territories.business_hours_end
    from measured
    inner join owners on owners.owner_id = measured.owner_id
    inner join territories on territories.territory = owners.primary_team
    where measured.outcome = 'answered'
),

span_days as (
    select
        local_spans.*,
        cast({{ dbt.dateadd('day', 'day_offset - 1', 'cast(local_start as date)') }} as date) as local_day
    from (
        select
            local_spans.*,
            {{ explode_range(dbt.datediff('cast(local_start as date)', 'cast(local_end as date)', 'day') ~ ' + 1') }}
                as day_offset
        from local_spans
    ) as local_spans
),

business_seconds as (
    select
        request_id,
        sum(case when {{ is_weekday('local_day') }} then greatest(0, {{ seconds_between(
            'greatest(local_start, ' ~ dbt.dateadd('hour', 'business_hours_start', 'cast(local_day as timestamp)') ~ ')',
            'least(local_end, ' ~ dbt.dateadd('hour', 'business_hours_end', 'cast(local_day as timestamp)') ~ ')') }})
            else 0 end) as business_latency_seconds
    from span_days
    group by request_id
),

final as (
    select
        measured.request_id,
        measured.person_id,
        measured.account_id,
        measured.request_type,
        measured.requested_at,
        measured.request_week,
        measured.first_touch_id,
        measured.first_touched_at,
        measured.first_touch_channel,
        measured.latency_seconds,
        measured.outcome = 'missed' as is_missed,
        measured.owner_id,
        measured.segment,
        business_seconds.business_latency_seconds,
        measured.outcome,
        measured.window_closes_at,
        {{ kpi_answered_within('measured.latency_seconds', 'measured.outcome', 'fast') }} as answered_within_5_min,
        {{ kpi_answered_within('measured.latency_seconds', 'measured.outcome', 'hour') }} as answered_within_1_hour,
        {{ kpi_latency_bucket('measured.latency_seconds', 'measured.outcome', var('speed_to_lead_window_days')) }}
            as latency_bucket,
        {{ kpi_latency_bucket('measured.latency_seconds', 'measured.outcome', var('speed_to_lead_window_days'),
                              as_order=true) }} as latency_bucket_order
    from measured
    left join business_seconds on business_seconds.request_id = measured.request_id
)

select * from final
