{#- Incremental models (docs/architecture.md, "Incremental models"). A run processes what landed after the model's
    high-water mark (the latest landed_at it holds) and rewrites whole groups of rows: the landed files of an event
    log, the days an event falls on (widened by a model's window), or the records that have a new version. The same
    SQL works on an engine whose plain tables can only overwrite partitions or append (Spark parquet, no merge):
    the config is chosen here per adapter, and `dbt build --full-refresh` rebuilds any of them from raw. -#}

{#- Config of a model that rewrites every group of rows (`partition`: a column, a day or a landed file) its new
    rows fall in: each run's output holds all rows of those groups. DuckDB: delete+insert by that column; Spark:
    insert_overwrite of those partitions. A changed column list fails the run: rebuild with --full-refresh. -#}
{% macro incremental_by_partition(partition) -%}
    {{ return(adapter.dispatch('incremental_by_partition')(partition)) }}
{%- endmacro %}

{% macro default__incremental_by_partition(partition) -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'delete+insert', 'unique_key': partition,
               'on_schema_change': 'fail'}) }}
{%- endmacro %}

{% macro spark__incremental_by_partition(partition) -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'insert_overwrite', 'partition_by': [partition],
               'file_format': 'parquet', 'on_schema_change': 'fail'}) }}
{%- endmacro %}

{#- Config of a model that rewrites single rows (`key`: a column, the model's grain): each run's output holds the
    rows that are new or whose inputs changed. DuckDB: delete+insert by that key. Plain parquet tables cannot
    replace a row (that would be a merge), so on Spark the model is a table rebuilt each run. -#}
{% macro incremental_by_key(key) -%}
    {{ return(adapter.dispatch('incremental_by_key')(key)) }}
{%- endmacro %}

{% macro default__incremental_by_key(key) -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'delete+insert', 'unique_key': key,
               'on_schema_change': 'fail'}) }}
{%- endmacro %}

{% macro spark__incremental_by_key(key) -%}
    {{ return({'materialized': 'table', 'file_format': 'parquet'}) }}
{%- endmacro %}

{#- A condition on `column` (a landing time) of rows landed after the high-water mark: the latest `column` in
    {{ this }}, or any row when it holds none yet. Only inside an is_incremental() block. -#}
{% macro landed_after_high_water_mark(column='landed_at', this_column=none) -%}
    {%- set mark = this_column or column -%}
    {%- do check_incremental_columns([mark]) -%}
    ({{ column }} > (select max(kept.{{ mark }}) from {{ this }} as kept)
     or not exists (select 1 from {{ this }} as kept where kept.{{ mark }} is not null))
{%- endmacro %}

{#- Whether the model's table has the `columns` its incremental run reads; call it beside is_incremental():
    `is_incremental() and incremental_columns_ready([...])`. A table built by an earlier version of the model (before
    it was incremental, or before it kept those columns) is dropped here during a run or build, which then builds it
    whole, as --full-refresh would; a compile only renders the full query. -#}
{% macro incremental_columns_ready(columns) -%}
    {%- if not execute or this is string -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set relation = adapter.get_relation(this.database, this.schema, this.identifier) -%}
    {%- if relation is none -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set have = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {%- set missing = columns | reject('in', have) | list -%}
    {%- if not missing -%}
        {{ return(true) }}
    {%- endif -%}
    {%- if flags.WHICH in ['run', 'build'] -%}
        {%- do log(this ~ " was built by an earlier version of the model (no column " ~ missing | join(", ")
                   ~ "): built anew", info=true) -%}
        {%- do adapter.drop_relation(relation) -%}
    {%- endif -%}
    {{ return(false) }}
{%- endmacro %}

{#- An incremental model's table built by an earlier version of it (a table before it became incremental, or
    without a column the incremental run reads) cannot be added to: say so, and how to rebuild it. -#}
{% macro check_incremental_columns(columns) -%}
    {%- if execute and this is not string -%}
        {%- set relation = adapter.get_relation(this.database, this.schema, this.identifier) -%}
        {%- if relation is not none -%}
            {%- set have = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
            {%- for c in columns if c | lower not in have -%}
                {{ exceptions.raise_compiler_error(this ~ " has no column " ~ c ~ ": it was built by an earlier "
                    ~ "version of the model. Rebuild it: dbt build --full-refresh --select " ~ this.identifier) }}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
