{#- Identifier normalization (docs/identity.md), mirrored in revops/evaluation/normalize.py for the evaluation code;
    tests/test_identity.py checks both agree on every email of the S world. -#}

{#- trim, lowercase, `+tag` removed; gmail.com / googlemail.com: dots removed, domain gmail.com (one mailbox).
    null for anything that is not local@dotted.domain. -#}
{% macro normalize_email(expr) -%}
    {{ return(adapter.dispatch('normalize_email')(expr)) }}
{%- endmacro %}

{% macro duckdb__normalize_email(expr) -%}
    (case
        when not regexp_full_match(lower(trim({{ expr }})), '[^@\s+][^@\s]*@[^@\s]+\.[^@\s]+') then null
        when split_part(lower(trim({{ expr }})), '@', 2) in ('gmail.com', 'googlemail.com')
            then replace(split_part(split_part(lower(trim({{ expr }})), '@', 1), '+', 1), '.', '') || '@gmail.com'
        else split_part(split_part(lower(trim({{ expr }})), '@', 1), '+', 1)
            || '@' || split_part(lower(trim({{ expr }})), '@', 2)
    end)
{%- endmacro %}

{#- A company domain from a domain, a URL or an email: lowercase, no scheme, no www., no path. -#}
{% macro normalize_domain(expr) -%}
    {{ return(adapter.dispatch('normalize_domain')(expr)) }}
{%- endmacro %}

{% macro duckdb__normalize_domain(expr) -%}
    nullif(regexp_replace(regexp_replace(lower(trim({{ expr }})), '^([a-z]+://)?(www\.)?([^@]*@)?', ''), '[/:?#].*$', ''), '')
{%- endmacro %}

{#- A full name for matching: lower case, accents and punctuation removed, single spaces. -#}
{% macro normalize_name(first, last) -%}
    {{ return(adapter.dispatch('normalize_name')(first, last)) }}
{%- endmacro %}

{% macro duckdb__normalize_name(first, last) -%}
    nullif(trim(regexp_replace(regexp_replace(strip_accents(lower(
        coalesce({{ first }}, '') || ' ' || coalesce({{ last }}, ''))), '[^a-z ]', '', 'g'), '\s+', ' ', 'g')), '')
{%- endmacro %}

{#- Connected components of an undirected graph, as `node, component` where component is the smallest node
    id of the component. Label propagation in a recursive CTE: each round a node takes the smallest label among
    its neighbours when it is smaller than its own (USING KEY keeps one row per node), so it ends after as many
    rounds as the longest shortest path in a component — any length, each round touching only changed nodes.
    `nodes` and `edges` are relations or CTE names; edges need not be symmetric. -#}
{% macro connected_components(nodes, node_col, edges, a_col, b_col) -%}
    {{ return(adapter.dispatch('connected_components')(nodes, node_col, edges, a_col, b_col)) }}
{%- endmacro %}

{% macro duckdb__connected_components(nodes, node_col, edges, a_col, b_col) -%}
    with recursive
    cc_arcs as (
        select {{ a_col }} as from_node, {{ b_col }} as to_node from {{ edges }}
        union all
        select {{ b_col }}, {{ a_col }} from {{ edges }}
    ),
    cc_labels(node, component) using key (node) as (
        select distinct {{ node_col }}, {{ node_col }} from {{ nodes }}
        union
        select arc.to_node, min(cur.component)
        from cc_labels as cur
        inner join cc_arcs as arc on arc.from_node = cur.node
        inner join recurring.cc_labels as known on known.node = arc.to_node
        group by arc.to_node, known.component
        having min(cur.component) < known.component
    )
    select node, component from cc_labels
{%- endmacro %}

{#- Join condition: the row of int_person_accounts_dated (alias `accounts`) valid for `person` at `at`; before
    the person's first known domain they are taken to be at that first account. -#}
{% macro person_account_at(accounts, person, at) -%}
    {{ accounts }}.person_id = {{ person }}
    and ({{ accounts }}.is_first or {{ accounts }}.valid_from <= {{ at }})
    and ({{ accounts }}.valid_to is null or {{ at }} < {{ accounts }}.valid_to)
{%- endmacro %}

{#- The scoring weights the models read: the seeds (var scoring_weights = hand_set, the default) or the tables
    `revops calibrate scoring` fits from past deals (calibrated). -#}
{% macro scoring_weights(seed_name) -%}
    {%- if var('scoring_weights') == 'calibrated' -%}
        {{ source('calibration', seed_name ~ '_calibrated') }}
    {%- else -%}
        {{ ref(seed_name) }}
    {%- endif -%}
{%- endmacro %}
