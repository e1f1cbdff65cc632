{#- Double touch for every filter the dashboard offers: the one model that computes the double-touch rates of
    docs/kpis.md (mart_double_touch_rates and mart_revops_kpis select its rows; the dashboard and `revops kpis` read
    them). Grain: period_grain, period_start, period_end, owner_id, segment, pair_kind ('all' and each pair of
    emitter kinds of t2 and its latest qualifying t1), where owner_id and segment are 'all' when not split on.
    - A touched person's owner is the owner of their next action (mart_stage_map), their segment the one of their
      current account (dim_account; 'unknown' without one), as int_persons_sliced has them: the dashboard's owner
      and segment filters select persons this way.
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
        person_id,
        cast(touched_at as date) as touch_day,
        cast({{ dbt.date_trunc('week', 'touched_at') }} as date) as touch_week
    from {{ ref('fct_touches') }}
    where counts_as_touch
),

incidents as (
    select
        person_id,
        cast(touched_at as date) as touch_day,
        cast({{ dbt.date_trunc('week', 'touched_at') }} as date) as touch_week,
        pair_kind
    from {{ ref('fct_double_touches') }}
),

person_slices as (
    select * from {{ ref('int_persons_sliced') }}
),

pair_kinds as (
    select 'all' as pair_kind
    union all select 'marketing×sales'
    union all select 'sales×sales'
    union all select 'marketing×marketing'
),

-- what is counted, by kind: 'touched' for the touches; each incident under its own pair kind and under 'all'
counted as (
    select person_id, touch_day, touch_week, 'touched' as kind from touches
    union all
    select person_id, touch_day, touch_week, pair_kind from incidents
    union all
    select person_id, touch_day, touch_week, 'all' from incidents
),

touched_persons as (
    select person_slices.person_id, person_slices.owner_id, person_slices.segment
    from person_slices
    where person_slices.person_id in (select person_id from touches)
),

spans as (
    {{ whole_week_spans('touches', 'touch_week') }}
),

-- per week, slice and kind: touches and incidents (they add up over weeks)
weekly_counts as (
    select counted.touch_week, touched_persons.owner_id, touched_persons.segment, counted.kind, count(*) as events
    from counted
    inner join touched_persons on touched_persons.person_id = counted.person_id
    group by counted.touch_week, touched_persons.owner_id, touched_persons.segment, counted.kind
),

-- the weeks a person was touched ('touched') or had an incident (per pair kind), with the week before it
person_week_starts as (
    select
        touched_persons.owner_id,
        touched_persons.segment,
        person_weeks.kind,
        person_weeks.touch_week,
        lag(person_weeks.touch_week) over (partition by person_weeks.person_id, person_weeks.kind
                                           order by person_weeks.touch_week nulls last) as previous_week
    from (select person_id, kind, touch_week from counted group by person_id, kind, touch_week) as person_weeks
    inner join touched_persons on touched_persons.person_id = person_weeks.person_id
),

person_week_counts as (
    select owner_id, segment, kind, touch_week, previous_week, count(*) as persons
    from person_week_starts
    group by owner_id, segment, kind, touch_week, previous_week
),

span_persons as (
    select
        spans.period_start, spans.period_end,
        person_week_counts.owner_id, person_week_counts.segment, person_week_counts.kind,
        sum(person_week_counts.persons) as persons
    from spans
    inner join person_week_counts
        on person_week_counts.touch_week between spans.period_start and spans.last_week_start
        and (person_week_counts.previous_week is null or person_week_counts.previous_week < spans.period_start)
    group by spans.period_start, spans.period_end,
             person_week_counts.owner_id, person_week_counts.segment, person_week_counts.kind
),

span_counts as (
    select
        spans.period_start, spans.period_end, spans.period_weeks, spans.covers_all_weeks,
        weekly_counts.owner_id, weekly_counts.segment, weekly_counts.kind,
        sum(weekly_counts.events) as events,
        max(span_persons.persons) as persons
    from spans
    inner join weekly_counts on weekly_counts.touch_week between spans.period_start and spans.last_week_start
    inner join span_persons
        on span_persons.period_start = spans.period_start and span_persons.period_end = spans.period_end
        and span_persons.owner_id = weekly_counts.owner_id and span_persons.segment = weekly_counts.segment
        and span_persons.kind = weekly_counts.kind
    group by spans.period_start, spans.period_end, spans.period_weeks, spans.covers_all_weeks,
             weekly_counts.owner_id, weekly_counts.segment, weekly_counts.kind
),

-- each person has one owner and one segment: counts of persons add up across them
slices as (
    select
        'weeks' as period_grain,
        period_start, period_end, period_weeks, covers_all_weeks,
        case when grouping(owner_id) = 0 then owner_id else 'all' end as owner_id,
        case when grouping(segment) = 0 then segment else 'all' end as segment,
        kind,
        cast(sum(events) as bigint) as events,
        cast(sum(persons) as bigint) as persons
    from span_counts
    group by period_start, period_end, period_weeks, covers_all_weeks, kind, cube(owner_id, segment)
    union all
    select 'day', touch_day, touch_day, cast(null as integer), false, 'all', 'all', kind, count(*),
           count(distinct person_id)
    from counted
    group by touch_day, kind
),

-- each slice's touches beside its incidents of every pair kind (none: 0)
measured as (
    select
        touched.period_grain, touched.period_start, touched.period_end, touched.period_weeks,
        touched.covers_all_weeks,
        touched.owner_id,
        touched.segment,
        pair_kinds.pair_kind,
        touched.events as touches,
        coalesce(incidents.events, 0) as incidents,
        touched.persons as touched_persons,
        coalesce(incidents.persons, 0) as persons_with_incident
    from slices as touched
    cross join pair_kinds
    left join slices as incidents
        on incidents.period_grain = touched.period_grain
        and incidents.period_start = touched.period_start
        and incidents.period_end = touched.period_end
        and incidents.owner_id = touched.owner_id
        and incidents.segment = touched.segment
        and incidents.kind = pair_kinds.pair_kind
    where touched.kind = 'touched'
),

final as (
    select
        period_grain, period_start, period_end, period_weeks, covers_all_weeks,
        owner_id,
        segment,
        pair_kind,
        touches,
        incidents,
        cast(incidents as double) * 10000 / touches as incidents_per_10k_touches,
        touched_persons,
        persons_with_incident,
        cast(persons_with_incident as double) / touched_persons as share_of_touched_persons
    from measured
)

select * from final
