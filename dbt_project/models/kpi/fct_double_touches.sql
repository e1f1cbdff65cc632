{#- Double-touch incidents of docs/kpis.md (grain: touch_id of t2): a touch t2 whose person had an earlier touch t1
    from another emitter with 0 < t2 - t1 <= double_touch_window_hours; t2 counts once, paired with its latest
    qualifying t1 (ties by touch id). Touches are emails delivered and outbound calls (not meetings). -#}
with

touches as (
    select * from {{ ref('fct_touches') }}
    where counts_as_touch
),

qualifying as (
    select
        t2.touch_id,
        t2.person_id,
        t2.touched_at,
        t2.emitter,
        t2.emitter_kind,
        t1.touch_id as earlier_touch_id,
        t1.touched_at as earlier_touched_at,
        t1.emitter as earlier_emitter,
        t1.emitter_kind as earlier_emitter_kind,
        row_number() over (partition by t2.touch_id order by t1.touched_at desc, t1.touch_id desc) as recency
    from touches as t2
    inner join touches as t1
        on t1.person_id = t2.person_id
        and t1.emitter <> t2.emitter
        and t1.touched_at < t2.touched_at
        and t1.touched_at >= {{ dbt.dateadd('hour', -1 * var('double_touch_window_hours'), 't2.touched_at') }}
),

final as (
    select
        touch_id,
        person_id,
        touched_at,
        emitter,
        earlier_touch_id,
        earlier_touched_at,
        earlier_emitter,
        {{ seconds_between('earlier_touched_at', 'touched_at') }} / 60.0 as gap_minutes,
        case when earlier_emitter_kind <= emitter_kind then earlier_emitter_kind || '×' || emitter_kind
             else emitter_kind || '×' || earlier_emitter_kind end as pair_kind
    from qualifying
    where recency = 1
)

select * from final
