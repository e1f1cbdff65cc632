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

final as (
    select
        case when period_grain = 'day' then 'day' when period_weeks = 1 then 'week' end as period_grain,
        period_start,
        pair_kind,
        touches,
        incidents,
        incidents_per_10k_touches,
        touched_persons,
        persons_with_incident,
        share_of_touched_persons
    from cube
    where period_grain = 'day' or period_weeks = 1
    union all
    select
        'all',
        cast(null as date),
        pair_kind,
        touches,
        incidents,
        incidents_per_10k_touches,
        touched_persons,
        persons_with_incident,
        share_of_touched_persons
    from cube
    where period_grain = 'weeks' and covers_all_weeks
)

select * from final
