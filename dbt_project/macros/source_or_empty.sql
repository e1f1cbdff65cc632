{#- A source table, or an empty stand-in with its columns when the table does not exist yet. For sources that
    appear at run time, such as the sync's crm_sync tables before the first sync: `dbt build` works on a fresh
    warehouse, and once the tables exist (the dbt asset creates them before building: reverse_etl/state.py) the
    views read them live. `source()` is called unconditionally so dbt records the dependency when parsing. -#}
{% macro source_or_empty(source_name, table_name, empty_columns) -%}
    {%- set src = source(source_name, table_name) -%}
    {%- set relation = adapter.get_relation(database=src.database, schema=src.schema, identifier=src.identifier)
        if execute else none -%}
    {%- if relation -%}
        {{ src }}
    {%- else -%}
        (select {% for name, type in empty_columns.items() %}cast(null as {{ type }}) as {{ name }}{{ ", " if not loop.last }}{% endfor %} where 1 = 0)
    {%- endif -%}
{%- endmacro %}
