{#- Deliverability per sending domain per UTC day (grain: sending_domain, day_utc), every day from the domain's first
    event to the last day in the data, with the trailing window (var kill_switch_window_days: d-6..d) and the
    kill switch of docs/kpis.md: paused on day d when the window holds >= kill_switch_min_sends sends and its bounce
    rate > kill_switch_max_bounce_rate or its complaint rate > kill_switch_max_complaint_rate.
    Incremental by day (docs/architecture.md): the events are counted again per domain and day (a group-by over
    int_sending_events_unioned), and from the first day whose counts differ from the table's (a new day, a late
    event, an event a re-export took away) every day is rewritten, its trailing window reading the recounted days
    before it. -#}
{{ config(**incremental_by_partition('day_utc')) }}

with

events as (
    select * from {{ ref('int_sending_events_unioned') }}
),

daily as (
    select
        sending_domain,
        event_day as day_utc,
        count(*) filter (where event_kind = 'send') as sends,
        count(*) filter (where event_kind = 'bounce') as bounces,
        count(*) filter (where event_kind = 'complaint') as complaints,
        count(*) filter (where event_kind = 'unsubscribe') as unsubscribes
    from events
    group by sending_domain, event_day
),

domain_ranges as (
    select
        sending_domain,
        min(day_utc) as first_day,
        (select max(day_utc) from daily) as last_day
    from daily
    group by sending_domain
),
{%- if is_incremental() %}

rewrite_from as (
    -- the first day whose counts differ from the table's
    select min(coalesce(daily.day_utc, kept.day_utc)) as first_day
    from daily
    full outer join {{ this }} as kept
        on kept.sending_domain = daily.sending_domain and kept.day_utc = daily.day_utc
    where coalesce(daily.sends, 0) <> coalesce(kept.sends, 0)
        or coalesce(daily.bounces, 0) <> coalesce(kept.bounces, 0)
        or coalesce(daily.complaints, 0) <> coalesce(kept.complaints, 0)
        or coalesce(daily.unsubscribes, 0) <> coalesce(kept.unsubscribes, 0)
),

window_start as (
    -- the rewritten days and the days their trailing windows reach back to
    select cast({{ dbt.dateadd('day', 1 - var('kill_switch_window_days'), 'first_day') }} as date) as first_day
    from rewrite_from
),
{%- endif %}

spine as (
    select
        sending_domain,
        cast({{ dbt.dateadd('day', 'day_offset - 1', 'first_day') }} as date) as day_utc
    from (
        select
            sending_domain,
            first_day,
            {{ explode_range(dbt.datediff('first_day', 'last_day', 'day') ~ ' + 1') }} as day_offset
        from domain_ranges
    ) as offsets
    {%- if is_incremental() %}
    where cast({{ dbt.dateadd('day', 'day_offset - 1', 'first_day') }} as date) >= (select first_day from window_start)
    {%- endif %}
),

filled as (
    select
        spine.sending_domain,
        spine.day_utc,
        coalesce(daily.sends, 0) as sends,
        coalesce(daily.bounces, 0) as bounces,
        coalesce(daily.complaints, 0) as complaints,
        coalesce(daily.unsubscribes, 0) as unsubscribes
    from spine
    left join daily on daily.sending_domain = spine.sending_domain and daily.day_utc = spine.day_utc
),

windowed as (
    select
        filled.*,
        cast(sum(sends) over window_days as bigint) as sends_7d,
        cast(sum(bounces) over window_days as bigint) as bounces_7d,
        cast(sum(complaints) over window_days as bigint) as complaints_7d,
        cast(sum(unsubscribes) over window_days as bigint) as unsubscribes_7d
    from filled
    window window_days as (partition by sending_domain order by day_utc
                           rows between {{ var('kill_switch_window_days') - 1 }} preceding and current row)
),

final as (
    select
        windowed.*,
        cast(bounces_7d as double) / nullif(sends_7d, 0) as bounce_rate_7d,
        cast(complaints_7d as double) / nullif(sends_7d, 0) as complaint_rate_7d,
        cast(unsubscribes_7d as double) / nullif(sends_7d, 0) as unsubscribe_rate_7d,
        sends_7d >= {{ var('kill_switch_min_sends') }}
            and (cast(bounces_7d as double) / nullif(sends_7d, 0) > {{ var('kill_switch_max_bounce_rate') }}
                 or cast(complaints_7d as double) / nullif(sends_7d, 0) > {{ var('kill_switch_max_complaint_rate') }})
            as is_paused,
        case
            when sends_7d < {{ var('kill_switch_min_sends') }} then null
            when cast(bounces_7d as double) / sends_7d > {{ var('kill_switch_max_bounce_rate') }}
                and cast(complaints_7d as double) / sends_7d > {{ var('kill_switch_max_complaint_rate') }}
                then 'bounce and complaint rates'
            when cast(bounces_7d as double) / sends_7d > {{ var('kill_switch_max_bounce_rate') }} then 'bounce rate'
            when cast(complaints_7d as double) / sends_7d > {{ var('kill_switch_max_complaint_rate') }} then 'complaint rate'
        end as pause_reason
    from windowed
    {%- if is_incremental() %}
    where day_utc >= (select first_day from rewrite_from)
    {%- endif %}
)

select * from final
