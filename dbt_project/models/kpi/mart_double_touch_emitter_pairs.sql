{#- The campaigns and sequences that collide most, for every filter the dashboard offers (grain: period_start,
    period_end, owner_id, segment, earlier_emitter, emitter): per pair of emitters (t1's, then the double touch
    t2's), the incidents, the persons they hit and the median gap between t1 and t2 (minutes). Periods are the
    spans of whole ISO weeks of mart_double_touch_cube (one week to all of them); owner (of the person's next
    action) and segment (of their current account) of int_persons_sliced, as there, each 'all' when not split on.
    Only the pairs ranked 1-15 by incidents within their period and slice are kept (rank_in_slice; ties by emitter
    names): the rest of 1.5 million rows on M is a list nobody reads. -#}
with

incidents as (
    select
        person_id,
        cast({{ dbt.date_trunc('week', 'touched_at') }} as date) as touch_week,
        earlier_emitter,
        emitter,
        pair_kind,
        gap_minutes
    from {{ ref('fct_double_touches') }}
),

spans as (
    select distinct period_start, period_end, {{ dbt.dateadd('day', -6, 'period_end') }} as last_week_start
    from {{ ref('mart_double_touch_cube') }}
    where period_grain = 'weeks'
),

person_slices as (
    select * from {{ ref('int_persons_sliced') }}
),

sliced as (
    select incidents.*, person_slices.owner_id, person_slices.segment
    from incidents
    inner join person_slices on person_slices.person_id = incidents.person_id
),

grouped as (
    select
        spans.period_start,
        spans.period_end,
        case when grouping(sliced.owner_id) = 0 then sliced.owner_id else 'all' end as owner_id,
        case when grouping(sliced.segment) = 0 then sliced.segment else 'all' end as segment,
        sliced.earlier_emitter,
        sliced.emitter,
        min(sliced.pair_kind) as pair_kind,
        count(*) as incidents,
        count(distinct sliced.person_id) as persons,
        cast({{ percentile('sliced.gap_minutes', 0.5) }} as double) as median_gap_minutes
    from spans
    inner join sliced on sliced.touch_week between spans.period_start and spans.last_week_start
    group by spans.period_start, spans.period_end, sliced.earlier_emitter, sliced.emitter,
             cube(sliced.owner_id, sliced.segment)
),

ranked as (
    select
        grouped.*,
        row_number() over (partition by period_start, period_end, owner_id, segment
                           order by incidents desc, earlier_emitter, emitter) as rank_in_slice
    from grouped
),

final as (
    select
        period_start,
        period_end,
        owner_id,
        segment,
        earlier_emitter,
        emitter,
        pair_kind,
        cast(incidents as bigint) as incidents,
        cast(persons as bigint) as persons,
        median_gap_minutes,
        cast(rank_in_slice as integer) as rank_in_slice
    from ranked
    where rank_in_slice <= 15
)

select * from final
