{#- The fuzzy rule (docs/identity.md) between first-pass clusters: a cluster whose emails are all free-mail joins the one
    other cluster with the same normalized full name and the same company domain. Lower confidence, rule recorded.
    Also when both clusters hold a CRM contact: a personal-address contact beside a work-address contact is the
    commonest CRM duplicate (on a foreign world the old guard kept 62 such people apart, every speed-to-lead and
    double-touch difference there). Refused only when ambiguous (two candidates), into or out of an oversized
    cluster, or past the size cap. Endpoints are the clusters' ids (their smallest identifier). -#}
with

clustered as (
    select * from {{ ref('int_identifiers_clustered') }}
),

identifiers as (
    select * from {{ ref('int_identifiers_collected') }}
),

traits as (
    select * from {{ ref('int_identifier_traits_collected') }}
),

identity_rules as (
    select * from {{ ref('identity_rules') }}
    where rule = 'fuzzy_name_domain'
),

cluster_profiles as (
    select
        clustered.cluster_id,
        count(distinct clustered.identifier_id) as identifier_count,
        bool_or(clustered.is_in_oversized_component) as is_oversized,
        count(distinct identifiers.identifier_id) filter (where identifiers.identifier_type = 'email') as emails,
        count(distinct identifiers.identifier_id) filter (
            where identifiers.identifier_type = 'email' and not identifiers.is_freemail) as non_freemail_emails
    from clustered
    left join identifiers on identifiers.identifier_id = clustered.identifier_id
    group by 1
),

cluster_traits as (
    select clustered.cluster_id, traits.trait, traits.trait_value, min(traits.first_seen_at) as first_seen_at
    from clustered
    inner join traits on traits.identifier_id = clustered.identifier_id
    group by clustered.cluster_id, traits.trait, traits.trait_value
),

name_domains as (
    select
        names.cluster_id,
        names.trait_value as full_name,
        domains.trait_value as company_domain,
        greatest(names.first_seen_at, domains.first_seen_at) as first_seen_at
    from cluster_traits as names
    inner join cluster_traits as domains
        on domains.cluster_id = names.cluster_id and domains.trait = 'company_domain'
    where names.trait = 'full_name'
),

candidates as (
    select
        freemail.cluster_id as freemail_cluster_id,
        other.cluster_id as other_cluster_id,
        freemail.full_name,
        freemail.company_domain,
        greatest(freemail.first_seen_at, other.first_seen_at) as first_seen_at
    from name_domains as freemail
    inner join cluster_profiles as freemail_profile on freemail_profile.cluster_id = freemail.cluster_id
    inner join name_domains as other
        on other.full_name = freemail.full_name
        and other.company_domain = freemail.company_domain
        and other.cluster_id <> freemail.cluster_id
    inner join cluster_profiles as other_profile on other_profile.cluster_id = other.cluster_id
    where freemail_profile.emails > 0
        and freemail_profile.non_freemail_emails = 0
        and not freemail_profile.is_oversized
        and not other_profile.is_oversized
        and freemail_profile.identifier_count + other_profile.identifier_count
            <= {{ var('identity_cluster_size_cap') }}
),

candidate_counts as (
    select freemail_cluster_id, count(distinct other_cluster_id) as other_clusters
    from candidates
    group by freemail_cluster_id
),

unambiguous as (
    select candidates.*
    from candidates
    inner join candidate_counts using (freemail_cluster_id)
    where candidate_counts.other_clusters = 1
),

final as (
    select
        least(freemail_cluster_id, other_cluster_id) as identifier_id_a,
        greatest(freemail_cluster_id, other_cluster_id) as identifier_id_b,
        identity_rules.rule,
        identity_rules.confidence,
        identity_rules.is_strong,
        min(unambiguous.first_seen_at) as first_seen_at,
        count(*) as evidence_count,
        min(unambiguous.full_name || ' at ' || unambiguous.company_domain) as example_evidence
    from unambiguous
    cross join identity_rules
    group by
        least(freemail_cluster_id, other_cluster_id),
        greatest(freemail_cluster_id, other_cluster_id),
        identity_rules.rule,
        identity_rules.confidence,
        identity_rules.is_strong
)

select * from final
