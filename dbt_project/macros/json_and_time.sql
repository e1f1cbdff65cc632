{#- SQL that only some engines speak lives here, dispatched per adapter (DESIGN 10). -#}

{#- The text at a JSON path ('$.a.b') of a JSON column; null when absent. -#}
{% macro json_text(column, path) -%}
    {{ return(adapter.dispatch('json_text')(column, path)) }}
{%- endmacro %}

{% macro default__json_text(column, path) -%}
    json_extract_string({{ column }}, '{{ path }}')
{%- endmacro %}

{% macro spark__json_text(column, path) -%}
    get_json_object({{ column }}, '{{ path }}')
{%- endmacro %}

{#- A JSON fragment (object or array) at a path, kept as JSON text. -#}
{% macro json_fragment(column, path) -%}
    {{ return(adapter.dispatch('json_fragment')(column, path)) }}
{%- endmacro %}

{% macro default__json_fragment(column, path) -%}
    json_extract({{ column }}, '{{ path }}')
{%- endmacro %}

{#- An ISO-8601 string with offset ('...Z') as a UTC timestamp without time zone. -#}
{% macro iso_to_utc(expr) -%}
    {{ return(adapter.dispatch('iso_to_utc')(expr)) }}
{%- endmacro %}

{% macro duckdb__iso_to_utc(expr) -%}
    cast(cast({{ expr }} as timestamptz) at time zone 'UTC' as timestamp)
{%- endmacro %}

{% macro default__iso_to_utc(expr) -%}
    cast({{ expr }} as timestamp)
{%- endmacro %}

{#- Unix seconds as a UTC timestamp without time zone. -#}
{% macro unix_seconds_to_utc(expr) -%}
    {{ return(adapter.dispatch('unix_seconds_to_utc')(expr)) }}
{%- endmacro %}

{% macro duckdb__unix_seconds_to_utc(expr) -%}
    cast(to_timestamp({{ expr }}) at time zone 'UTC' as timestamp)
{%- endmacro %}

{% macro default__unix_seconds_to_utc(expr) -%}
    cast(from_unixtime({{ expr }}) as timestamp)
{%- endmacro %}
