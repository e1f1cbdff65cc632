{#- Identifier normalization (docs/identity.md), mirrored in revops/evaluation/normalize.py for the evaluation code;
    tests/test_identity.py checks both agree on every email of the S world. -#}

{#- trim, lowercase, `+tag` removed; gmail.com / googlemail.com: dots removed, domain gmail.com (one mailbox).
    null for anything that is not local@dotted.domain. -#}
{% macro normalize_email(expr) -%}
    (case
        when not {{ is_email_shaped('lower(trim(' ~ expr ~ '))') }} then null
        when split_part(lower(trim({{ expr }})), '@', 2) in ('gmail.com', 'googlemail.com')
            then replace(split_part(split_part(lower(trim({{ expr }})), '@', 1), '+', 1), '.', '') || '@gmail.com'
        else split_part(split_part(lower(trim({{ expr }})), '@', 1), '+', 1)
            || '@' || split_part(lower(trim({{ expr }})), '@', 2)
    end)
{%- endmacro %}

{#- local@dotted.domain, the whole text: the one part of normalize_email whose regex dialect differs by engine -#}
{% macro is_email_shaped(expr) -%}
    {{ return(adapter.dispatch('is_email_shaped')(expr)) }}
{%- endmacro %}

{% macro duckdb__is_email_shaped(expr) -%}
    regexp_full_match({{ expr }}, '[^@\s+][^@\s]*@[^@\s]+\.[^@\s]+')
{%- endmacro %}

{#- Spark: Java regexes, and '\\' in a string literal is an escape, so the patterns' backslashes are doubled. -#}
{% macro spark__is_email_shaped(expr) -%}
    ({{ expr }} rlike '^[^@\\s+][^@\\s]*@[^@\\s]+\\.[^@\\s]+\\z')
{%- endmacro %}

{#- A company domain from a domain, a URL or an email: lowercase, no scheme, no www., no path. -#}
{% macro normalize_domain(expr) -%}
    {{ return(adapter.dispatch('normalize_domain')(expr)) }}
{%- endmacro %}

{% macro duckdb__normalize_domain(expr) -%}
    nullif(regexp_replace(regexp_replace(lower(trim({{ expr }})), '^([a-z]+://)?(www\.)?([^@]*@)?', ''), '[/:?#].*$', ''), '')
{%- endmacro %}

{#- Spark's regexp_replace replaces every match; both patterns are anchored and the second runs to the end, so
    there is only ever the first. -#}
{% macro spark__normalize_domain(expr) -%}
    nullif(regexp_replace(regexp_replace(lower(trim({{ expr }})), '^([a-z]+://)?(www\\.)?([^@]*@)?', ''), '[/:?#].*$', ''), '')
{%- endmacro %}

{#- A full name for matching: lower case, accents and punctuation removed, single spaces. -#}
{% macro normalize_name(first, last) -%}
    {{ return(adapter.dispatch('normalize_name')(first, last)) }}
{%- endmacro %}

{% macro duckdb__normalize_name(first, last) -%}
    nullif(trim(regexp_replace(regexp_replace(strip_accents(lower(
        coalesce({{ first }}, '') || ' ' || coalesce({{ last }}, ''))), '[^a-z ]', '', 'g'), '\s+', ' ', 'g')), '')
{%- endmacro %}

{#- Spark has no strip_accents: the lower-case Latin letters (U+00C0-024F, U+1E00-1EFF) that DuckDB's strip_accents
    turns into one a-z letter are translated to it (the list is DuckDB's own output). A decomposed accent is a
    combining mark, which '[^a-z ]' removes anyway; any other letter is removed by it on both engines. -#}
{% macro spark__normalize_name(first, last) -%}
    nullif(trim(regexp_replace(regexp_replace(translate(lower(
        coalesce({{ first }}, '') || ' ' || coalesce({{ last }}, '')),
        'àáâãäåçèéêëìíîïñòóôõöùúûüýÿāăąćĉċčďēĕėęěĝğġģĥĩīĭįĵķĺļľńņňōŏőŕŗřśŝşšţťũūŭůűųŵŷźżžơưǎǐǒǔǖǘǚǜǟǡǧǩǫǭǰǵǹǻȁȃȅȇȉȋȍȏȑȓȕȗșțȟȧȩȫȭȯȱȳḁḃḅḇḉḋḍḏḑḓḕḗḙḛḝḟḡḣḥḧḩḫḭḯḱḳḵḷḹḻḽḿṁṃṅṇṉṋṍṏṑṓṕṗṙṛṝṟṡṣṥṧṩṫṭṯṱṳṵṷṹṻṽṿẁẃẅẇẉẋẍẏẑẓẕẖẗẘẙạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ',
        'aaaaaaceeeeiiiinooooouuuuyyaaaccccdeeeeegggghiiiijklllnnnooorrrssssttuuuuuuwyzzzouaiouuuuuaagkoojgnaaaeeiioorruusthaeooooyabbbcdddddeeeeefghhhhhiikkkllllmmmnnnnoooopprrrrsssssttttuuuuuvvwwwwwxxyzzzhtwyaaaaaaaaaaaaeeeeeeeeiioooooooooooouuuuuuuyyyy'),
        '[^a-z ]', ''), '\\s+', ' ')), '')
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

{#- Spark's recursive CTEs allow neither UNION nor an aggregate over the recursive reference, so the same label
    propagation is unrolled into var connected_components_rounds rounds: each round every node sends its label to
    itself and to its neighbours and keeps the smallest it receives. A round reads the round before once, and
    `nodes` and `edges` are read once, because Spark inlines a CTE at each reference: a round joining the arcs
    again, or a check reading the last round twice, multiplied the plan (out of memory in the clustering model).
    Each row carries the node's neighbours and the label it had, so the round after the last one is the check: a
    label it still changes fails the query instead of cutting a component. Components settle after as many rounds
    as the longest shortest path from their smallest node (S: 4 for the first pass, 1 for the fuzzy pass). A node
    outside `nodes` receives a label but has no neighbour list to pass it on, and is dropped, as the recursive
    version ignores an edge with an end outside `nodes`. -#}
{% macro spark__connected_components(nodes, node_col, edges, a_col, b_col) -%}
    {%- set rounds = var('connected_components_rounds') | int -%}
    with
    cc_nodes as (
        select distinct {{ node_col }} as node from {{ nodes }}
    ),
    cc_adjacency as (
        select arc.from_node, collect_list(arc.to_node) as neighbors
        from (
            select inline(array(
                named_struct('from_node', {{ a_col }}, 'to_node', {{ b_col }}),
                named_struct('from_node', {{ b_col }}, 'to_node', {{ a_col }})))
            from {{ edges }}
        ) as arc
        group by arc.from_node
    ),
    cc_round_0 as (
        select
            cc_nodes.node,
            cc_nodes.node as component,
            -- a node without edges is its own neighbour, so that it keeps a list
            coalesce(cc_adjacency.neighbors, array(cc_nodes.node)) as neighbors
        from cc_nodes
        left join cc_adjacency on cc_adjacency.from_node = cc_nodes.node
    ),
    {%- for r in range(1, rounds + 2) %}
    cc_round_{{ r }} as (
        select
            sent.target as node,
            min(sent.component) as component,
            max(case when sent.pos = 0 then sent.neighbors end) as neighbors,
            max(case when sent.pos = 0 then sent.component end) as previous_component
        from (
            select component, neighbors, posexplode(concat(array(node), neighbors)) as (pos, target)
            from cc_round_{{ r - 1 }}
        ) as sent
        group by sent.target
    ),
    {%- endfor %}
    cc_checked as (
        select
            node,
            case
                when component <> previous_component then raise_error(
                    'connected_components: not converged after {{ rounds }} rounds; raise var connected_components_rounds')
                else component
            end as component
        from cc_round_{{ rounds + 1 }}
        where neighbors is not null
    )
    select node, component from cc_checked
{%- endmacro %}

{#- Join condition: the row of int_person_accounts_dated (alias `accounts`) valid for `person` at `at`; before
    the person's first known domain they are taken to be at that first account. -#}
{% macro person_account_at(accounts, person, at) -%}
    {{ accounts }}.person_id = {{ person }}
    and ({{ accounts }}.is_first or {{ accounts }}.valid_from <= {{ at }})
    and ({{ accounts }}.valid_to is null or {{ at }} < {{ accounts }}.valid_to)
{%- endmacro %}

{#- The scoring weights the models read: the seeds (var scoring_weights = hand_set, the default) or the tables
    `revops calibrate scoring` fits from past deals (calibrated). Both are named whichever is read, so the
    manifest's graph has both edges whatever the var was at parse time: a recalibration is new data for the
    state-aware build (revops/build_state.py) of the models downstream. -#}
{% macro scoring_weights(seed_name) -%}
    {%- set calibrated = source('calibration', seed_name ~ '_calibrated') -%}
    {%- set hand_set = ref(seed_name) -%}
    {{ calibrated if var('scoring_weights') == 'calibrated' else hand_set }}
{%- endmacro %}
