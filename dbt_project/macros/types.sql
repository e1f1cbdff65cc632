{#- Column types dbt's cross-database type macros (dbt.type_string, dbt.type_timestamp, ...) have no name for. A
    contracted column's data_type cannot call them (properties are rendered without the project's macros): it
    names the type per target.type. -#}

{#- A point in time: DuckDB's timestamp with time zone, which landing and the sync write (crm_sync, ops). Spark's
    TIMESTAMP is one already (an instant, shown in the session time zone, UTC). -#}
{% macro type_timestamp_tz() -%}
    {{ return(adapter.dispatch('type_timestamp_tz')()) }}
{%- endmacro %}

{% macro default__type_timestamp_tz() -%}
    {{ return('timestamp with time zone') }}
{%- endmacro %}

{% macro spark__type_timestamp_tz() -%}
    {{ return('timestamp') }}
{%- endmacro %}

{#- A JSON document: DuckDB's JSON type; text on Spark, read with get_json_object (macros/json_and_time.sql). -#}
{% macro type_json() -%}
    {{ return(adapter.dispatch('type_json')()) }}
{%- endmacro %}

{% macro default__type_json() -%}
    {{ return('json') }}
{%- endmacro %}

{% macro spark__type_json() -%}
    {{ return('string') }}
{%- endmacro %}
