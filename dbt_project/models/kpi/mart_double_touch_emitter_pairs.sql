{#- The campaigns and sequences that collide most, for every filter the dashboard offers (grain: period_start,
    period_end, owner_id, segment, earlier_emitter, emitter): per pair of emitters (t1's, then the double touch
    t2's), the incidents, the persons they hit and the median gap between t1 and t2 (minutes). Periods are the
    spans of whole ISO weeks of mart_double_touch_cube (one week to all of them); owner (of the person's next
    action) and segment (of their current account) of int_persons_sliced, as there, each 'all' when not split on.
    Only the pairs ranked 1-15 by incidents within their period and slice are kept (rank_in_slice; ties by emitter
    names): the rest of 1.5 million rows on M is a list nobody reads.
    A week is in 35 spans on average over M's 13 weeks (126 over 26 weeks), so no span reads the incidents
    themselves: they are counted per week, slice and pair, and each span adds up its weeks' counts (1.75 million
    integer rows on M) to rank the pairs. Persons and the median gap do not add up across weeks; they are computed
    from the incidents for the kept rows only, and once per range of weeks they hold (35k ranges, 0.32 million
    incident rows on M). A distinct count and a median for every pair of every span was 3.8 million incident rows
    on M (4.5-5.4 s, 1.4 GB) and ran out of 6 GB on L. -#}
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
    select
        period_start,
        period_end,
        cast({{ dbt.dateadd('day', -6, 'period_end') }} as date) as last_week_start,
        row_number() over (order by period_start nulls last, period_end nulls last) as span_id
    from (
        select distinct period_start, period_end
        from {{ ref('mart_double_touch_cube') }}
        where period_grain = 'weeks'
    ) as week_spans
),

person_slices as (
    select * from {{ ref('int_persons_sliced') }}
),

-- numbered in the order of the names: ordering by pair_id breaks ties by the names
pairs as (
    select earlier_emitter, emitter, row_number() over (order by earlier_emitter nulls last, emitter nulls last) as pair_id
    from (select distinct earlier_emitter, emitter from incidents) as distinct_pairs
),

slicings as (
    select true as by_owner, true as by_segment
    union all select true, false
    union all select false, true
    union all select false, false
),

-- the four slices a person's owner and segment count in: both, either alone ('all' for the other), neither
slices as (
    select
        person_slice_values.owner_id as person_owner_id,
        person_slice_values.segment as person_segment,
        case when slicings.by_owner then person_slice_values.owner_id else 'all' end as owner_id,
        case when slicings.by_segment then person_slice_values.segment else 'all' end as segment,
        dense_rank() over (order by slicings.by_owner nulls last, slicings.by_segment nulls last,
                                    case when slicings.by_owner then person_slice_values.owner_id end nulls last,
                                    case when slicings.by_segment then person_slice_values.segment end nulls last) as slice_id
    from (select distinct owner_id, segment from person_slices) as person_slice_values
    cross join slicings
),

-- each incident with the week of the person's previous incident of the pair (null for the first): a person
-- counts in a span once, at the first of their incidents in it, the one whose previous incident lies before it
paired as (
    select
        incidents.person_id,
        pairs.pair_id,
        incidents.touch_week,
        lag(incidents.touch_week) over (partition by incidents.person_id, pairs.pair_id
                                        order by incidents.touch_week nulls last) as previous_week,
        incidents.pair_kind,
        incidents.gap_minutes
    from incidents
    inner join pairs on pairs.earlier_emitter = incidents.earlier_emitter and pairs.emitter = incidents.emitter
),

-- each incident in each of its person's four slices
sliced as (
    select slices.slice_id, paired.pair_id, paired.touch_week, paired.previous_week, paired.pair_kind,
           paired.gap_minutes
    from paired
    inner join person_slices on person_slices.person_id = paired.person_id
    inner join slices
        on slices.person_owner_id = person_slices.owner_id and slices.person_segment = person_slices.segment
),

weekly as (
    select slice_id, pair_id, touch_week, count(*) as incidents
    from sliced
    group by slice_id, pair_id, touch_week
),

span_incidents as (
    select spans.span_id, weekly.slice_id, weekly.pair_id, sum(weekly.incidents) as incidents
    from spans
    inner join weekly on weekly.touch_week between spans.period_start and spans.last_week_start
    group by spans.span_id, weekly.slice_id, weekly.pair_id
),

ranked as (
    select
        span_incidents.*,
        row_number() over (partition by span_id, slice_id order by incidents desc, pair_id nulls last) as rank_in_slice
    from span_incidents
),

-- the top 15, with the first and last week of their incidents in the span: the spans of a slice's pair with the
-- same first and last week hold the same incidents (249k kept rows on M, 35k ranges of weeks)
kept as (
    select
        ranked.span_id,
        spans.period_start,
        spans.period_end,
        ranked.slice_id,
        ranked.pair_id,
        ranked.incidents,
        ranked.rank_in_slice,
        min(weekly.touch_week) as first_week,
        max(weekly.touch_week) as last_week
    from ranked
    inner join spans on spans.span_id = ranked.span_id
    inner join weekly
        on weekly.slice_id = ranked.slice_id
        and weekly.pair_id = ranked.pair_id
        and weekly.touch_week between spans.period_start and spans.last_week_start
    where ranked.rank_in_slice <= 15
    group by ranked.span_id, spans.period_start, spans.period_end, ranked.slice_id, ranked.pair_id,
             ranked.incidents, ranked.rank_in_slice
),

incident_ranges as (
    select distinct slice_id, pair_id, first_week, last_week from kept
),

-- each range's pair kind, persons and median gap, from its incidents; a person counts at their first incident in
-- the range, the one whose previous incident lies before first_week (the pair had none in the slice between the
-- span's start and first_week)
measured as (
    select
        incident_ranges.slice_id,
        incident_ranges.pair_id,
        incident_ranges.first_week,
        incident_ranges.last_week,
        min(sliced.pair_kind) as pair_kind,
        sum(case when sliced.previous_week is null or sliced.previous_week < incident_ranges.first_week
                 then 1 else 0 end) as persons,
        cast({{ percentile('sliced.gap_minutes', 0.5) }} as double) as median_gap_minutes
    from incident_ranges
    inner join sliced
        on sliced.slice_id = incident_ranges.slice_id
        and sliced.pair_id = incident_ranges.pair_id
        and sliced.touch_week between incident_ranges.first_week and incident_ranges.last_week
    group by incident_ranges.slice_id, incident_ranges.pair_id, incident_ranges.first_week, incident_ranges.last_week
),

slice_names as (
    select distinct slice_id, owner_id, segment from slices
),

final as (
    select
        kept.period_start,
        kept.period_end,
        slice_names.owner_id,
        slice_names.segment,
        pairs.earlier_emitter,
        pairs.emitter,
        measured.pair_kind,
        cast(kept.incidents as bigint) as incidents,
        cast(measured.persons as bigint) as persons,
        measured.median_gap_minutes,
        cast(kept.rank_in_slice as integer) as rank_in_slice
    from kept
    inner join measured
        on measured.slice_id = kept.slice_id
        and measured.pair_id = kept.pair_id
        and measured.first_week = kept.first_week
        and measured.last_week = kept.last_week
    inner join slice_names on slice_names.slice_id = kept.slice_id
    inner join pairs on pairs.pair_id = kept.pair_id
)

select * from final
