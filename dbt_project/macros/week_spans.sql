{#- Every span of whole ISO weeks from the first to the last week in `week_column` of `relation` (a relation or a
    CTE name; week_column holds Mondays), from one week to all of them, as a query: period_start (the span's first
    Monday), last_week_start (its last Monday), period_end (its last Sunday), period_weeks and covers_all_weeks.
    The dashboard's week filters pick one span, and the cubes (mart_speed_to_lead_cube, mart_double_touch_cube)
    compute each span from its own rows, since medians and distinct persons do not add up across weeks: both take
    their spans from here, so a week means the same in both. A row falls in a span when its week is between
    period_start and last_week_start. Engine-neutral: dbt's date macros and explode_range. -#}
{% macro whole_week_spans(relation, week_column) -%}
    with

    span_bounds as (
        select min({{ week_column }}) as first_week, max({{ week_column }}) as last_week from {{ relation }}
    ),

    span_weeks as (
        select cast({{ dbt.dateadd('day', '7 * (week_offset - 1)', 'first_week') }} as date) as week_start
        from (
            select first_week, {{ explode_range(dbt.datediff('first_week', 'last_week', 'day') ~ ' / 7 + 1') }}
                as week_offset
            from span_bounds
        ) as offsets
    )

    select
        first_weeks.week_start as period_start,
        last_weeks.week_start as last_week_start,
        cast({{ dbt.dateadd('day', 6, 'last_weeks.week_start') }} as date) as period_end,
        cast({{ dbt.datediff('first_weeks.week_start', 'last_weeks.week_start', 'day') }} / 7 + 1 as integer)
            as period_weeks,
        first_weeks.week_start = span_bounds.first_week and last_weeks.week_start = span_bounds.last_week
            as covers_all_weeks
    from span_weeks as first_weeks
    inner join span_weeks as last_weeks on last_weeks.week_start >= first_weeks.week_start
    cross join span_bounds
{%- endmacro %}
