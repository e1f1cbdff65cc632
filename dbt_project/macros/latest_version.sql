{#- The latest version of each record of a CTE of versions (re-exported or re-extracted records):
    one row per key, ordered by `order_by`; `count_as` adds how many versions were seen. -#}
{% macro latest_version(cte, key, order_by='updated_at desc, landed_at desc', count_as=none) -%}
    {{ return(adapter.dispatch('latest_version')(cte, key, order_by, count_as)) }}
{%- endmacro %}

{% macro default__latest_version(cte, key, order_by, count_as) -%}
    select
        *{% if count_as %},
        count(*) over (partition by {{ key }}) as {{ count_as }}{% endif %}
    from {{ cte }}
    qualify row_number() over (partition by {{ key }} order by {{ order_by }}) = 1
{%- endmacro %}
