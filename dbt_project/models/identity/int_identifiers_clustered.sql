{#- First pass: connected components over the deterministic edges. A component larger than the size cap
    (var identity_cluster_size_cap, identifiers) is flagged and cut back to its strong edges: a chain of weaker
    links (shared devices, form fills) must not pull dozens of people into one. One row per identifier. -#}
with

identifiers as (
    select distinct identifier_id from {{ ref('int_identifiers_collected') }}
),

edges as (
    select * from {{ ref('int_identity_edges_collected') }}
),

all_edges_components as (
    {{ connected_components('identifiers', 'identifier_id', 'edges', 'identifier_id_a', 'identifier_id_b') }}
),

component_sizes as (
    select component, count(*) as identifier_count
    from all_edges_components
    group by 1
),

oversized_identifiers as (
    select all_edges_components.node as identifier_id, all_edges_components.component
    from all_edges_components
    inner join component_sizes using (component)
    where component_sizes.identifier_count > {{ var('identity_cluster_size_cap') }}
),

oversized_strong_edges as (
    select edges.*
    from edges
    inner join oversized_identifiers as a on a.identifier_id = edges.identifier_id_a
    inner join oversized_identifiers as b on b.identifier_id = edges.identifier_id_b
    where edges.is_strong
),

strong_components as (
    {{ connected_components('oversized_identifiers', 'identifier_id', 'oversized_strong_edges',
                            'identifier_id_a', 'identifier_id_b') }}
),

final as (
    select
        all_edges_components.node as identifier_id,
        coalesce(strong_components.component, all_edges_components.component) as cluster_id,
        oversized_identifiers.identifier_id is not null as is_in_oversized_component
    from all_edges_components
    left join oversized_identifiers on oversized_identifiers.identifier_id = all_edges_components.node
    left join strong_components on strong_components.node = all_edges_components.node
)

select * from final
