{#- Double-touch rates by ISO week of the touch and overall (grain: period_start, pair_kind; period_start null
    for all weeks together): incidents per 10,000 touches and the share of touched persons with at least one
    incident, in total (pair_kind 'all') and by the emitter kinds of t2 and its latest qualifying t1. -#}
with

touches as (
    select * from {{ ref('fct_touches') }}
    where counts_as_touch
),

incidents as (
    select * from {{ ref('fct_double_touches') }}
),

pair_kinds as (
    select 'all' as pair_kind
    union all select 'marketing×sales'
    union all select 'sales×sales'
    union all select 'marketing×marketing'
),

touch_periods as (
    select cast({{ dbt.date_trunc('week', 'touched_at') }} as date) as period_start, touch_id, person_id from touches
    union all
    select cast(null as date), touch_id, person_id from touches
),

incident_periods as (
    select cast({{ dbt.date_trunc('week', 'touched_at') }} as date) as period_start, pair_kind, touch_id, person_id
    from incidents
    union all
    select cast(null as date), pair_kind, touch_id, person_id from incidents
),

touch_totals as (
    select period_start, count(*) as touches, count(distinct person_id) as touched_persons
    from touch_periods
    group by period_start
),

incident_totals as (
    select
        incident_periods.period_start,
        pair_kinds.pair_kind,
        count(incident_periods.touch_id) as incidents,
        count(distinct incident_periods.person_id) as persons_with_incident
    from pair_kinds
    inner join incident_periods
        on pair_kinds.pair_kind = 'all' or pair_kinds.pair_kind = incident_periods.pair_kind
    group by incident_periods.period_start, pair_kinds.pair_kind
),

final as (
    select
        touch_totals.period_start,
        pair_kinds.pair_kind,
        touch_totals.touches,
        coalesce(incident_totals.incidents, 0) as incidents,
        coalesce(incident_totals.incidents, 0) * 10000.0 / touch_totals.touches as incidents_per_10k_touches,
        touch_totals.touched_persons,
        coalesce(incident_totals.persons_with_incident, 0) as persons_with_incident,
        coalesce(incident_totals.persons_with_incident, 0) * 1.0 / touch_totals.touched_persons
            as share_of_touched_persons
    from touch_totals
    cross join pair_kinds
    left join incident_totals
        on incident_totals.pair_kind = pair_kinds.pair_kind
        and incident_totals.period_start is not distinct from touch_totals.period_start
)

select * from final
