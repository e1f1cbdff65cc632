{#- The kill switch now (grain: sending_domain): each sending domain's state on the latest day of the data
    (docs/kpis.md: the latest day's state is the current state), since when it has been in that state, why, and the
    trailing rates behind it. The decision models read it: no email actions from a paused domain. -#}
with

daily as (
    select * from {{ ref('fct_deliverability_daily') }}
),

streaks as (
    -- a new streak starts whenever the state changes from the day before
    select
        daily.*,
        sum(case when is_paused = coalesce(previous_paused, not is_paused) then 0 else 1 end)
            over (partition by sending_domain order by day_utc rows unbounded preceding) as streak_number
    from (
        select daily.*, lag(is_paused) over (partition by sending_domain order by day_utc nulls last) as previous_paused
        from daily
    ) as daily
),

latest as (
    select *
    from (
        select streaks.*,
               row_number() over (partition by sending_domain order by day_utc desc) as recency
        from streaks
    ) as ranked
    where recency = 1
),

streak_starts as (
    select sending_domain, streak_number, min(day_utc) as streak_start
    from streaks
    group by sending_domain, streak_number
),

final as (
    select
        latest.sending_domain,
        case when latest.is_paused then 'paused' else 'active' end as status,
        streak_starts.streak_start as status_since,
        case when latest.is_paused then streak_starts.streak_start end as paused_since,
        latest.pause_reason,
        latest.day_utc as as_of_day,
        latest.sends_7d,
        latest.bounce_rate_7d,
        latest.complaint_rate_7d
    from latest
    inner join streak_starts
        on streak_starts.sending_domain = latest.sending_domain
        and streak_starts.streak_number = latest.streak_number
)

select * from final
