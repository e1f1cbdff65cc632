{#- Double-touch rates by UTC day, by ISO week of the touch and overall (grain: period_grain, period_start,
    pair_kind; period_grain day | week | all, period_start null for all weeks together): incidents per 10,000
    touches and the share of touched persons with at least one incident, in total (pair_kind 'all') and by the
    emitter kinds of t2 and its latest qualifying t1. The rows of mart_double_touch_cube over all owners and
    segments (a day, a span of one week, the span of all weeks); the rates are computed there, not here. -#}
with

cube as (
    select * from {{ ref('mart_double_touch_cube') }}
    where owner_id = 'all' and segment = 'all'
),

-- the cube's rows this model keeps, under its own period grains: a day, a span of one week, the span of all weeks
-- (with a single week, that span is kept twice: as the week and as all weeks)
kept_grains as (
    select 'day' as period_grain
    union all select 'week'
    union all select 'all'
),

final as (
    select
        kept_grains.period_grain,
        case when kept_grains.period_grain <> 'all' then cube.period_start end as period_start,
        cube.pair_kind,
        cube.touches,
        cube.incidents,
        cube.incidents_per_10k_touches,
        cube.touched_persons,
        cube.persons_with_incident,
        cube.share_of_touched_persons
    from cube
    inner join kept_grains
        on (kept_grains.period_grain = 'day' and cube.period_grain = 'day')
        or (kept_grains.period_grain = 'week' and cube.period_grain = 'weeks' and cube.period_weeks = 1)
        or (kept_grains.period_grain = 'all' and cube.period_grain = 'weeks' and cube.covers_all_weeks)
)

select * from final
