{#- SQL that only some engines speak lives here, dispatched per adapter (docs/architecture.md). -#}

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

{#- Spark's get_json_object gives an object or an array as compact JSON text, as DuckDB does, but a string without
    its quotes and a JSON null as null: a scalar is read through a variant instead, whose to_json quotes it (a
    variant sorts an object's keys, so objects and arrays keep get_json_object's text, which keeps their order). -#}
{% macro spark__json_fragment(column, path) -%}
    (case
        when left(ltrim(get_json_object({{ column }}, '{{ path }}')), 1) in ('{', '[')
            then get_json_object({{ column }}, '{{ path }}')
        else to_json(variant_get(try_parse_json({{ column }}), '{{ path }}'))
    end)
{%- endmacro %}

{#- The JSON column parsed once per row for all of a select list's json_text/json_fragment reads of it: each read
    on its own parses the whole record again (Segment's 19 reads of a call on M: 12.5-14.7 s; parsed once:
    2.7-3.4 s). `select_list` is rendered SQL over `column` (a staging envelope's caller block); returns
    {'parsed': columns to add in a step before it, each parsing `column` once, 'select_list': the select list
    reading them instead}. Every value is the one json_text/json_fragment gives. -#}
{% macro json_parsed_once(column, select_list) -%}
    {{ return(adapter.dispatch('json_parsed_once')(column, select_list)) }}
{%- endmacro %}

{#- DuckDB: json_extract_string/json_extract with a list of paths parse once and give a list, a value per path, the
    one each path gives alone (JSON null and a missing key: null; a number or an object: its JSON text). The reads
    json_text/json_fragment render (default__ above) become items of those lists; a read written any other way is
    left as it is, and parses on its own. -#}
{% macro duckdb__json_parsed_once(column, select_list) -%}
    {%- set result = {'parsed': [], 'select_list': select_list} -%}
    {%- for function, kind in [('json_extract_string', 'texts'), ('json_extract', 'fragments')] -%}
        {%- set read = function ~ '(' ~ column ~ ", '" -%}
        {%- set paths = modules.re.findall(modules.re.escape(read) ~ "([^']*)'[)]", result.select_list)
                        | unique | list -%}
        {%- if paths -%}
            {%- set values = column ~ '__' ~ kind -%}
            {%- do result.parsed.append(function ~ '(' ~ column ~ ", ['" ~ paths | join("', '") ~ "']) as "
                                        ~ values) -%}
            {%- for path in paths -%}
                {%- set item = values ~ '[' ~ loop.index ~ ']' -%}
                {%- do result.update({'select_list': result.select_list.replace(read ~ path ~ "')", item)}) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(result) }}
{%- endmacro %}

{#- Elsewhere each read parses on its own (Spark: get_json_object per path). Spark's json_tuple parses once, but
    reads top-level fields only and is a generator (a lateral view), not a value a select list can index. -#}
{% macro default__json_parsed_once(column, select_list) -%}
    {{ return({'parsed': [], 'select_list': select_list}) }}
{%- endmacro %}

{#- An ISO-8601 string with offset ('...Z') as a UTC timestamp without time zone; '' (HubSpot's empty property)
    is null. Landing has tried this same cast on every value (revops/landing/contracts.py), so it cannot fail. -#}
{% macro iso_to_utc(expr) -%}
    {{ return(adapter.dispatch('iso_to_utc')(expr)) }}
{%- endmacro %}

{% macro duckdb__iso_to_utc(expr) -%}
    cast(cast(nullif({{ expr }}, '') as timestamptz) at time zone 'UTC' as timestamp)
{%- endmacro %}

{% macro default__iso_to_utc(expr) -%}
    cast(nullif({{ expr }}, '') as timestamp)
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

{#- One row per element of a JSON array of strings, as a select-list expression. -#}
{% macro explode_json_array(column) -%}
    {{ return(adapter.dispatch('explode_json_array')(column)) }}
{%- endmacro %}

{% macro duckdb__explode_json_array(column) -%}
    unnest(from_json({{ column }}, '["VARCHAR"]'))
{%- endmacro %}

{% macro spark__explode_json_array(column) -%}
    explode(from_json({{ column }}, 'array<string>'))
{%- endmacro %}

{#- One row per part of a delimited string, as a select-list expression. -#}
{% macro explode_split(column, separator) -%}
    {{ return(adapter.dispatch('explode_split')(column, separator)) }}
{%- endmacro %}

{% macro duckdb__explode_split(column, separator) -%}
    unnest(string_split({{ column }}, '{{ separator }}'))
{%- endmacro %}

{#- Spark's split takes a regex: the separator is quoted (\\Q...\\E) to split on it literally, as DuckDB does. -#}
{% macro spark__explode_split(column, separator) -%}
    explode(split({{ column }}, '\\Q{{ separator }}\\E'))
{%- endmacro %}

{#- Aggregates: the distinct values as a sorted list, or joined into one sorted string. -#}
{% macro sorted_list_agg(expr) -%}
    {{ return(adapter.dispatch('sorted_list_agg')(expr)) }}
{%- endmacro %}

{% macro duckdb__sorted_list_agg(expr) -%}
    list(distinct {{ expr }} order by {{ expr }})
{%- endmacro %}

{#- collect_set drops nulls, where DuckDB's list keeps one null, sorted last: it is put back. -#}
{% macro spark__sorted_list_agg(expr) -%}
    (case
        when count(*) > count({{ expr }}) then array_append(array_sort(collect_set({{ expr }})), null)
        else array_sort(collect_set({{ expr }}))
    end)
{%- endmacro %}

{% macro sorted_string_agg(expr, separator=',') -%}
    {{ return(adapter.dispatch('sorted_string_agg')(expr, separator)) }}
{%- endmacro %}

{% macro duckdb__sorted_string_agg(expr, separator) -%}
    string_agg(distinct {{ expr }}, '{{ separator }}' order by {{ expr }})
{%- endmacro %}

{% macro spark__sorted_string_agg(expr, separator) -%}
    array_join(array_sort(collect_set({{ expr }})), '{{ separator }}')
{%- endmacro %}

{#- A stable surrogate id from a natural key: prefix + the first 16 hex digits of its md5. -#}
{% macro stable_id(prefix, expr) -%}
    '{{ prefix }}' || left(md5({{ expr }}), 16)
{%- endmacro %}

{#- One row per integer 1..n, as a select-list expression (n an expression of the same row). -#}
{% macro explode_range(n) -%}
    {{ return(adapter.dispatch('explode_range')(n)) }}
{%- endmacro %}

{% macro duckdb__explode_range(n) -%}
    unnest(range(1, cast({{ n }} as bigint) + 1))
{%- endmacro %}

{#- sequence(1, 0) counts down (1, 0), where DuckDB's range gives no row: n below 1 explodes nothing here too. -#}
{% macro spark__explode_range(n) -%}
    explode(case when {{ n }} >= 1 then sequence(cast(1 as bigint), cast({{ n }} as bigint)) end)
{%- endmacro %}

{#- The current time as a UTC timestamp without time zone. -#}
{% macro utc_now() -%}
    {{ return(adapter.dispatch('utc_now')()) }}
{%- endmacro %}

{% macro duckdb__utc_now() -%}
    cast(current_timestamp at time zone 'UTC' as timestamp)
{%- endmacro %}

{% macro default__utc_now() -%}
    cast({{ dbt.current_timestamp() }} as timestamp)
{%- endmacro %}

{#- A time-zone-aware timestamp (landing's landed_at) as a UTC timestamp without time zone. -#}
{% macro tz_to_utc(expr) -%}
    {{ return(adapter.dispatch('tz_to_utc')(expr)) }}
{%- endmacro %}

{% macro duckdb__tz_to_utc(expr) -%}
    cast({{ expr }} at time zone 'UTC' as timestamp)
{%- endmacro %}

{% macro default__tz_to_utc(expr) -%}
    cast({{ expr }} as timestamp)
{%- endmacro %}

{#- The continuous percentile p (0-1) of an expression, as an aggregate. -#}
{% macro percentile(expr, p) -%}
    {{ return(adapter.dispatch('percentile')(expr, p)) }}
{%- endmacro %}

{% macro duckdb__percentile(expr, p) -%}
    quantile_cont({{ expr }}, {{ p }})
{%- endmacro %}

{% macro spark__percentile(expr, p) -%}
    percentile({{ expr }}, {{ p }})
{%- endmacro %}

{#- Elapsed seconds from timestamp a to timestamp b (fractional): datediff counts unit boundaries crossed, which
    is one second off for 10:00:00.9 -> 10:00:02.1. -#}
{% macro seconds_between(a, b) -%}
    {{ return(adapter.dispatch('seconds_between')(a, b)) }}
{%- endmacro %}

{% macro duckdb__seconds_between(a, b) -%}
    ((epoch_ms({{ b }}) - epoch_ms({{ a }})) / 1000.0)
{%- endmacro %}

{#- A double, as DuckDB's: Spark keeps a bigint divided by a decimal literal (1000.0) a decimal. -#}
{% macro spark__seconds_between(a, b) -%}
    (cast(unix_millis({{ b }}) - unix_millis({{ a }}) as double) / 1000)
{%- endmacro %}

{#- A UTC timestamp (without time zone) as local wall-clock time in an IANA time zone. -#}
{% macro utc_to_local(ts, time_zone) -%}
    {{ return(adapter.dispatch('utc_to_local')(ts, time_zone)) }}
{%- endmacro %}

{% macro duckdb__utc_to_local(ts, time_zone) -%}
    timezone({{ time_zone }}, timezone('UTC', {{ ts }}))
{%- endmacro %}

{% macro spark__utc_to_local(ts, time_zone) -%}
    from_utc_timestamp({{ ts }}, {{ time_zone }})
{%- endmacro %}

{#- True on Monday to Friday. -#}
{% macro is_weekday(d) -%}
    {{ return(adapter.dispatch('is_weekday')(d)) }}
{%- endmacro %}

{% macro duckdb__is_weekday(d) -%}
    (isodow({{ d }}) <= 5)
{%- endmacro %}

{% macro spark__is_weekday(d) -%}
    (dayofweek({{ d }}) between 2 and 6)
{%- endmacro %}

{#- A sum of doubles that is the same on every run: a parallel double sum depends on the order its threads add in
    (1e-14 apart on M), which reordered round-robin owners and re-sent 3,573 unchanged contacts on a rebuild.
    Each term is rounded to 9 decimals and summed as an exact decimal. -#}
{% macro exact_sum(expr) -%}
    cast(sum(cast({{ expr }} as decimal(38, 9))) as double)
{%- endmacro %}

{#- The name of a HubSpot owner's primary team (teams[{id, name, primary}]), else its first team's. -#}
{% macro primary_team_name(column) -%}
    {{ return(adapter.dispatch('primary_team_name')(column)) }}
{%- endmacro %}

{% macro duckdb__primary_team_name(column) -%}
    coalesce(
        json_extract_string({{ column }}, '$.teams[*].name')[
            list_position(json_extract_string({{ column }}, '$.teams[*].primary'), 'true')],
        json_extract_string({{ column }}, '$.teams[0].name'))
{%- endmacro %}

{% macro default__primary_team_name(column) -%}
    {{ json_text(column, '$.teams[0].name') }}
{%- endmacro %}

{#- Spark: the teams parsed into structs; the first with primary true, else the first. -#}
{% macro spark__primary_team_name(column) -%}
    coalesce(
        try_element_at(filter(
            from_json(get_json_object({{ column }}, '$.teams'), 'array<struct<name: string, primary: string>>'),
            team -> team.primary = 'true'), 1).name,
        get_json_object({{ column }}, '$.teams[0].name'))
{%- endmacro %}
