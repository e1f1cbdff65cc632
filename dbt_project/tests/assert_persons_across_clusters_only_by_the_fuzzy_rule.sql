{{ config(group="identity") }}
-- A person made of several first-pass clusters was joined by the fuzzy rule — also when two of those clusters
-- hold CRM contacts (a personal-address contact beside a work-address contact: docs/identity.md) — so it is marked
-- fuzzy-joined and stays within the size cap. Anything else joined clusters without a rule.
with

resolved as (
    select * from {{ ref('int_identifiers_resolved') }}
)

select
    person_id,
    count(distinct first_pass_cluster_id) as first_pass_clusters,
    count(*) as identifiers,
    bool_and(is_fuzzy_joined) as is_fuzzy_joined
from resolved
group by person_id
having count(distinct first_pass_cluster_id) > 1
    and (not bool_and(is_fuzzy_joined) or count(*) > {{ var('identity_cluster_size_cap') }})
