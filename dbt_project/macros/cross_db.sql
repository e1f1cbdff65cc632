{#- Overrides of dbt's cross-database macros where the adapter's version gives another value than DuckDB's. -#}

{#- dbt-spark's dateadd goes through unix seconds, dropping the fractional seconds (a request at 08:21:07.220
    got a window closing at 08:21:07); timestampadd keeps them, and adds calendar units as DuckDB's interval
    arithmetic does. -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    timestampadd({{ datepart }}, {{ interval }}, {{ from_date_or_timestamp }})
{%- endmacro %}
