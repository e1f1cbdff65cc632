-- Two CRM contacts the CRM keeps apart are one person only when exact identifiers join them (a shared
-- normalized email, a prospect or identify call carrying both addresses: the deterministic first pass) or the CRM
-- merged them. A person whose contacts sit in different first-pass clusters was joined by a fuzzy edge: wrong.
with

resolved as (
    select * from {{ ref('int_identifiers_resolved') }}
)

select
    person_id,
    count(distinct first_pass_cluster_id) as first_pass_clusters_with_contacts,
    list(identifier_value order by identifier_value) as crm_contact_ids
from resolved
where identifier_type = 'crm_contact_id'
group by person_id
having count(distinct first_pass_cluster_id) > 1
