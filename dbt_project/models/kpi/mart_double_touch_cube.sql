{#- Double touch for every filter the dashboard offers: the one model that computes the double-touch rates of
    docs/kpis.md (mart_double_touch_rates and mart_revops_kpis select its rows; the dashboard and `revops kpis` read
    them). Grain: period_grain, period_start, period_end, owner_id, segment, pair_kind ('all' and each pair of
    emitter kinds of t2 and its latest qualifying t1), where owner_id and segment are 'all' when not split on.
    - A touched person's owner is the owner of their next action (mart_stage_map), their segment the one of their
      current account (dim_account; 'unknown' without one): the dashboard's owner and segment filters select
      persons this way.
    - period_grain 'weeks': every span of whole ISO weeks of the touch, from one week to all of them
      (period_start its first Monday, period_end its last Sunday, period_weeks), for every owner and segment and
      both rolled up. Touches and incidents add up across weeks; touched persons do not (a person touched in two
      weeks is one person): a person counts in a span at the first week of the span they were touched in, which
      is a week whose previous touched week lies before the span.
    - period_grain 'day': each UTC day of the touch, over all persons (owner and segment 'all').
    Per row: touches, incidents, incidents per 10,000 touches, touched persons, persons with an incident and
    their share of the touched persons. -#}
with

touches as (
    select
        touch_id,
        person_id,
        cast(touched_at as date) as touch_day,
        cast({{ dbt.date_trunc('week', 'touched_at') }} as date) as touch_week
    from {{ ref('fct_touches') }}
    where counts_as_touch
),

incidents as (
    -- each incident under its own pair kind and under 'all'
    select
        touch_id,
        person_id,
        cast(touched_at as date) as touch_day,
        cast({{ dbt.date_trunc('week', 'touched_at') }} as date) as touch_week,
        pair_kind
    from {{ ref('fct_double_touches') }}
    union all
    select
        touch_id,
        person_id,
        cast(touched_at as date),
        cast({{ dbt.date_trunc('week', 'touched_at') }} as date),
        'all'
    from {{ ref('fct_double_touches') }}
),

stage_map as (
    select * from {{ ref('mart_stage_map') }}
),

people as (
    select * from {{ ref('dim_person') }}
),

accounts as (
    select * from {{ ref('dim_account') }}
),

pair_kinds as (
    select 'all' as pair_kind
    union all select 'marketing×sales'
    union all select 'sales×sales'
    union all select 'marketing×marketing'
),

touched_persons as (
    select
        persons.person_id,
        coalesce(stage_map.owner_id, 'unassigned') as owner_id,
        coalesce(accounts.segment, 'unknown') as segment
    from (select distinct person_id from touches) as persons
    left join stage_map on stage_map.person_id = persons.person_id
    left join people on people.person_id = persons.person_id
    left join accounts on accounts.account_id = people.account_id
),

bounds as (
    select min(touch_week) as first_week, max(touch_week) as last_week from touches
),

weeks as (
    select cast({{ dbt.dateadd('day', '7 * (week_offset - 1)', 'first_week') }} as date) as week_start
    from (
        select first_week, {{ explode_range(dbt.datediff('first_week', 'last_week', 'day') ~ ' / 7 + 1') }}
            as week_offset
        from bounds
    ) as offsets
),

spans as (
    select
        first_weeks.week_start as period_start,
        last_weeks.week_start as last_week_start,
        cast({{ dbt.dateadd('day', 6, 'last_weeks.week_start') }} as date) as period_end,
        cast({{ dbt.datediff('first_weeks.week_start', 'last_weeks.week_start', 'day') }} / 7 + 1 as integer)
            as period_weeks,
        first_weeks.week_start = bounds.first_week and last_weeks.week_start = bounds.last_week as covers_all_weeks
    from weeks as first_weeks
    inner join weeks as last_weeks on last_weeks.week_start >= first_weeks.week_start
    cross join bounds
),

-- per week and slice: touches and incidents (they add up over weeks)
weekly_touches as (
    select touches.touch_week, touched_persons.owner_id, touched_persons.segment, count(*) as touches
    from touches
    inner join touched_persons on touched_persons.person_id = touches.person_id
    group by touches.touch_week, touched_persons.owner_id, touched_persons.segment
),

weekly_incidents as (
    select incidents.touch_week, touched_persons.owner_id, touched_persons.segment, incidents.pair_kind,
           count(*) as incidents
    from incidents
    inner join touched_persons on touched_persons.person_id = incidents.person_id
    group by incidents.touch_week, touched_persons.owner_id, touched_persons.segment, incidents.pair_kind
),

-- the weeks a person was touched ('touched') or had an incident (per pair kind), with the week before it
person_weeks as (
    select person_id, 'touched' as kind, touch_week from touches group by person_id, touch_week
    union all
    select person_id, pair_kind, touch_week from incidents group by person_id, pair_kind, touch_week
),

person_week_starts as (
    select
        touched_persons.owner_id,
        touched_persons.segment,
        person_weeks.kind,
        person_weeks.touch_week,
        lag(person_weeks.touch_week) over (partition by person_weeks.person_id, person_weeks.kind
                                           order by person_weeks.touch_week) as previous_week
    from person_weeks
    inner join touched_persons on touched_persons.person_id = person_weeks.person_id
),

person_week_counts as (
    select owner_id, segment, kind, touch_week, previous_week, count(*) as persons
    from person_week_starts
    group by owner_id, segment, kind, touch_week, previous_week
),

span_persons as (
    select
        spans.period_start, spans.period_end, spans.period_weeks, spans.covers_all_weeks,
        person_week_counts.owner_id, person_week_counts.segment, person_week_counts.kind,
        sum(person_week_counts.persons) as persons
    from spans
    inner join person_week_counts
        on person_week_counts.touch_week between spans.period_start and spans.last_week_start
        and (person_week_counts.previous_week is null or person_week_counts.previous_week < spans.period_start)
    group by spans.period_start, spans.period_end, spans.period_weeks, spans.covers_all_weeks,
             person_week_counts.owner_id, person_week_counts.segment, person_week_counts.kind
),

span_touches as (
    select
        spans.period_start, spans.period_end, spans.period_weeks, spans.covers_all_weeks,
        weekly_touches.owner_id, weekly_touches.segment,
        sum(weekly_touches.touches) as touches,
        max(span_persons.persons) as touched_persons
    from spans
    inner join weekly_touches on weekly_touches.touch_week between spans.period_start and spans.last_week_start
    inner join span_persons
        on span_persons.period_start = spans.period_start and span_persons.period_end = spans.period_end
        and span_persons.owner_id = weekly_touches.owner_id and span_persons.segment = weekly_touches.segment
        and span_persons.kind = 'touched'
    group by spans.period_start, spans.period_end, spans.period_weeks, spans.covers_all_weeks,
             weekly_touches.owner_id, weekly_touches.segment
),

span_incidents as (
    select
        spans.period_start, spans.period_end,
        weekly_incidents.owner_id, weekly_incidents.segment, weekly_incidents.pair_kind,
        sum(weekly_incidents.incidents) as incidents,
        max(span_persons.persons) as persons_with_incident
    from spans
    inner join weekly_incidents on weekly_incidents.touch_week between spans.period_start and spans.last_week_start
    inner join span_persons
        on span_persons.period_start = spans.period_start and span_persons.period_end = spans.period_end
        and span_persons.owner_id = weekly_incidents.owner_id and span_persons.segment = weekly_incidents.segment
        and span_persons.kind = weekly_incidents.pair_kind
    group by spans.period_start, spans.period_end, weekly_incidents.owner_id, weekly_incidents.segment,
             weekly_incidents.pair_kind
),

-- each person has one owner and one segment: counts of persons add up across them
slices as (
    select
        'weeks' as period_grain,
        period_start, period_end, period_weeks, covers_all_weeks,
        case when grouping(owner_id) = 0 then owner_id else 'all' end as owner_id,
        case when grouping(segment) = 0 then segment else 'all' end as segment,
        sum(touches) as touches,
        sum(touched_persons) as touched_persons
    from span_touches
    group by grouping sets (
        (period_start, period_end, period_weeks, covers_all_weeks),
        (period_start, period_end, period_weeks, covers_all_weeks, owner_id),
        (period_start, period_end, period_weeks, covers_all_weeks, segment),
        (period_start, period_end, period_weeks, covers_all_weeks, owner_id, segment)
    )
    union all
    select
        'day', touch_day, touch_day, cast(null as integer), false, 'all', 'all',
        count(*), count(distinct person_id)
    from touches
    group by touch_day
),

slice_incidents as (
    select
        'weeks' as period_grain,
        period_start, period_end,
        case when grouping(owner_id) = 0 then owner_id else 'all' end as owner_id,
        case when grouping(segment) = 0 then segment else 'all' end as segment,
        pair_kind,
        sum(incidents) as incidents,
        sum(persons_with_incident) as persons_with_incident
    from span_incidents
    group by grouping sets (
        (period_start, period_end, pair_kind),
        (period_start, period_end, pair_kind, owner_id),
        (period_start, period_end, pair_kind, segment),
        (period_start, period_end, pair_kind, owner_id, segment)
    )
    union all
    select 'day', touch_day, touch_day, 'all', 'all', pair_kind, count(*), count(distinct person_id)
    from incidents
    group by touch_day, pair_kind
),

final as (
    select
        slices.period_grain,
        slices.period_start,
        slices.period_end,
        slices.period_weeks,
        slices.covers_all_weeks,
        slices.owner_id,
        slices.segment,
        pair_kinds.pair_kind,
        cast(slices.touches as bigint) as touches,
        cast(coalesce(slice_incidents.incidents, 0) as bigint) as incidents,
        coalesce(slice_incidents.incidents, 0) * 10000.0 / slices.touches as incidents_per_10k_touches,
        cast(slices.touched_persons as bigint) as touched_persons,
        cast(coalesce(slice_incidents.persons_with_incident, 0) as bigint) as persons_with_incident,
        coalesce(slice_incidents.persons_with_incident, 0) * 1.0 / slices.touched_persons as share_of_touched_persons
    from slices
    cross join pair_kinds
    left join slice_incidents
        on slice_incidents.period_grain = slices.period_grain
        and slice_incidents.period_start = slices.period_start
        and slice_incidents.period_end = slices.period_end
        and slice_incidents.owner_id = slices.owner_id
        and slice_incidents.segment = slices.segment
        and slice_incidents.pair_kind = pair_kinds.pair_kind
)

select * from final
