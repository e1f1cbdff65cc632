{#- Why two identifiers are one person: every identity edge (deterministic and fuzzy) with its rule,
    confidence, evidence and the persons at both ends; is_applied is false where a guard (size cap) kept the
    ends apart. Grain: (identifier_id_a, identifier_id_b, rule). Fuzzy edges join clusters: their ends are the
    clusters' smallest identifiers. -#}
with

deterministic_edges as (
    select * from {{ ref('int_identity_edges_collected') }}
),

fuzzy_edges as (
    select * from {{ ref('int_identity_edges_fuzzy') }}
),

bridge as (
    select * from {{ ref('bridge_person_identifier') }}
),

edges as (
    select * from deterministic_edges
    union all
    select * from fuzzy_edges
),

final as (
    select
        edges.identifier_id_a,
        edges.identifier_id_b,
        edges.rule,
        edges.confidence,
        edges.is_strong,
        edges.first_seen_at,
        edges.evidence_count,
        edges.example_evidence,
        end_a.person_id as person_id_a,
        end_b.person_id as person_id_b,
        end_a.person_id = end_b.person_id as is_applied
    from edges
    inner join bridge as end_a on end_a.identifier_id = edges.identifier_id_a
    inner join bridge as end_b on end_b.identifier_id = edges.identifier_id_b
)

select * from final
