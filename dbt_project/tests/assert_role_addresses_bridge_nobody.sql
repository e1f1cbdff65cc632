-- A role or junk address (info@, sales@, test@...) is linked to at most one other identifier (the one CRM
-- contact that carries it), so it can never bridge two people.
with

bridge as (
    select * from {{ ref('bridge_person_identifier') }}
),

edges as (
    select * from {{ ref('fct_identity_edges') }}
    where is_applied
),

edge_ends as (
    select identifier_id_a as identifier_id, identifier_id_b as other_identifier_id from edges
    union all
    select identifier_id_b, identifier_id_a from edges
)

select bridge.identifier_id, count(distinct edge_ends.other_identifier_id) as linked_identifiers
from bridge
inner join edge_ends on edge_ends.identifier_id = bridge.identifier_id
where bridge.is_role_address or bridge.is_junk_address
group by bridge.identifier_id
having count(distinct edge_ends.other_identifier_id) > 1
