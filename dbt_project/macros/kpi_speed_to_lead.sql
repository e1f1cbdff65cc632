{#- Speed-to-lead's thresholds (docs/kpis.md): the one place they are applied. The bars are dbt vars:
    speed_to_lead_fast_seconds (the "within 5 min" share), speed_to_lead_hour_seconds (the "within 1 h" share), and
    the distribution's finer steps, speed_to_lead_bucket_seconds; the last bucket ends where the request's window
    does (speed_to_lead_window_days, which fct_speed_to_lead owns and passes in). fct_speed_to_lead calls these
    macros once per request; the marts count its flags and buckets, and the dashboard reads labels, never a bar. -#}

{#- Whether a request was answered within a bar: 'fast' (speed_to_lead_fast_seconds) or 'hour'
    (speed_to_lead_hour_seconds). -#}
{% macro kpi_answered_within(latency_seconds, outcome, bar) -%}
    {%- set seconds = {'fast': var('speed_to_lead_fast_seconds'), 'hour': var('speed_to_lead_hour_seconds')}[bar] -%}
    ({{ outcome }} = 'answered' and {{ latency_seconds }} <= {{ seconds }})
{%- endmacro %}

{#- The extra edges of the distribution (seconds), beside the fast and the hour bar. -#}
{% macro kpi_speed_to_lead_bucket_seconds() -%}
    {{ return(var('speed_to_lead_bucket_seconds')) }}
{%- endmacro %}

{#- The upper edges of the answered buckets, ascending, in seconds: the two bars, the extra edges, the window. -#}
{% macro kpi_latency_bucket_edges(window_days) -%}
    {%- set edges = [var('speed_to_lead_fast_seconds'), var('speed_to_lead_hour_seconds')]
                    + kpi_speed_to_lead_bucket_seconds() -%}
    {%- set window_seconds = window_days * 24 * 60 * 60 -%}
    {%- set kept = [] -%}
    {%- for e in edges | unique | sort if e < window_seconds -%}{%- do kept.append(e) -%}{%- endfor -%}
    {%- do kept.append(window_seconds) -%}
    {{ return(kept) }}
{%- endmacro %}

{#- A duration in seconds as (number, unit): minutes below an hour, hours up to a day, else days. -#}
{% macro kpi_duration_parts(seconds) -%}
    {%- set minutes = seconds / 60 -%}
    {%- if minutes < 60 -%}{%- set parts = [minutes, 'min'] -%}
    {%- elif minutes / 60 <= 24 -%}{%- set parts = [minutes / 60, 'h'] -%}
    {%- else -%}{%- set parts = [minutes / 60 / 24, 'd'] -%}{%- endif -%}
    {%- set n = parts[0] | int if parts[0] == parts[0] | int else parts[0] | round(1) -%}
    {{ return([n, parts[1]]) }}
{%- endmacro %}

{#- The labels of the answered buckets, in the order of kpi_latency_bucket_edges: '≤ 5 min', '5–15 min',
    '15 min – 1 h', ... -#}
{% macro kpi_latency_bucket_labels(window_days) -%}
    {%- set edges = kpi_latency_bucket_edges(window_days) -%}
    {%- set labels = [] -%}
    {%- for e in edges -%}
        {%- set hi = kpi_duration_parts(e) -%}
        {%- if loop.first -%}
            {%- do labels.append('≤ ' ~ hi[0] ~ ' ' ~ hi[1]) -%}
        {%- else -%}
            {%- set lo = kpi_duration_parts(edges[loop.index0 - 1]) -%}
            {%- if lo[1] == hi[1] -%}{%- do labels.append(lo[0] ~ '–' ~ hi[0] ~ ' ' ~ hi[1]) -%}
            {%- else -%}{%- do labels.append(lo[0] ~ ' ' ~ lo[1] ~ ' – ' ~ hi[0] ~ ' ' ~ hi[1]) -%}{%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(labels) }}
{%- endmacro %}

{#- The bucket of a request, as a label ('missed' and 'open' for the requests without a touch) or as its order
    (1 = fastest; missed and open after every answered bucket). -#}
{% macro kpi_latency_bucket(latency_seconds, outcome, window_days, as_order=false) -%}
    {%- set edges = kpi_latency_bucket_edges(window_days) -%}
    {%- set labels = kpi_latency_bucket_labels(window_days) -%}
    case
        when {{ outcome }} = 'missed' then {{ (edges | length) + 1 if as_order else "'missed'" }}
        when {{ outcome }} = 'open' then {{ (edges | length) + 2 if as_order else "'open'" }}
        {%- for e in edges %}
        {%- if not loop.last %}
        when {{ latency_seconds }} <= {{ e }} then {{ loop.index if as_order else "'" ~ labels[loop.index0] ~ "'" }}
        {%- else %}
        else {{ loop.index if as_order else "'" ~ labels[loop.index0] ~ "'" }}
        {%- endif %}
        {%- endfor %}
    end
{%- endmacro %}
