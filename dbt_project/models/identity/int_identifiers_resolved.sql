{#- Every identifier with its person (docs/identity.md): the first-pass clusters joined by the fuzzy edges, unless that
    would make a person larger than the size cap (then the fuzzy joins of that group are dropped). person_id
    derives from the cluster's anchor, the identifier seen first (at the same time a CRM contact id before others,
    the smaller one first, then by value): new data, including the contact our own sync creates for a person
    (created now, after everything the person did), keeps everyone's id except where clusters merge or split. -#}
with

clustered as (
    select * from {{ ref('int_identifiers_clustered') }}
),

fuzzy_edges as (
    select * from {{ ref('int_identity_edges_fuzzy') }}
),

identifiers as (
    select * from {{ ref('int_identifiers_summarized') }}
),

joining_edges as (
    -- each identifier to its first-pass cluster, plus the fuzzy edges between clusters
    select identifier_id as identifier_id_a, cluster_id as identifier_id_b from clustered
    where identifier_id <> cluster_id
    union all
    select identifier_id_a, identifier_id_b from fuzzy_edges
),

joined_components as (
    {{ connected_components('clustered', 'identifier_id', 'joining_edges', 'identifier_id_a', 'identifier_id_b') }}
),

joined as (
    -- each identifier with its first-pass cluster and the component it is in after the fuzzy joins
    select clustered.*, joined_components.component
    from clustered
    inner join joined_components on joined_components.node = clustered.identifier_id
),

joined_sizes as (
    select
        component,
        count(*) as identifier_count,
        count(distinct cluster_id) as first_pass_clusters
    from joined
    group by component
),

assigned as (
    select
        joined.identifier_id,
        joined.cluster_id as first_pass_cluster_id,
        joined.is_in_oversized_component,
        joined_sizes.first_pass_clusters > 1
            and joined_sizes.identifier_count <= {{ var('identity_cluster_size_cap') }} as is_fuzzy_joined,
        case
            when joined_sizes.first_pass_clusters > 1
                and joined_sizes.identifier_count > {{ var('identity_cluster_size_cap') }}
                then joined.cluster_id
            else joined.component
        end as cluster_id
    from joined
    inner join joined_sizes on joined_sizes.component = joined.component
),

anchor_candidates as (
    -- the identifier seen first: a later identifier never takes the anchor, so it never changes a person's id
    -- (a CRM contact id first among those seen at once, as a contact and its email are; CRM ids grow over time)
    select
        assigned.cluster_id,
        identifiers.identifier_id,
        row_number() over (
            partition by assigned.cluster_id
            order by
                identifiers.first_seen_at,
                case when identifiers.identifier_type = 'crm_contact_id' then 0 else 1 end,
                case when identifiers.identifier_type = 'crm_contact_id'
                    then {{ dbt.safe_cast('identifiers.identifier_value', api.Column.translate_type('bigint')) }}
                end,
                identifiers.identifier_id
        ) as anchor_rank
    from assigned
    inner join identifiers on identifiers.identifier_id = assigned.identifier_id
),

anchors as (
    select
        assigned.cluster_id,
        min(anchor_candidates.identifier_id) as anchor_identifier_id,
        count(*) as identifier_count,
        max(case when assigned.is_fuzzy_joined then 1 else 0 end) = 1 as is_fuzzy_joined,
        max(case when assigned.is_in_oversized_component then 1 else 0 end) = 1 as is_oversized_cluster
    from assigned
    inner join anchor_candidates
        on anchor_candidates.cluster_id = assigned.cluster_id and anchor_candidates.anchor_rank = 1
    group by assigned.cluster_id
),

final as (
    select
        identifiers.identifier_id,
        identifiers.identifier_type,
        identifiers.identifier_value,
        {{ stable_id('per_', 'anchors.anchor_identifier_id') }} as person_id,
        anchors.anchor_identifier_id,
        assigned.first_pass_cluster_id,
        anchors.identifier_count as person_identifier_count,
        anchors.is_fuzzy_joined,
        anchors.is_oversized_cluster
    from assigned
    inner join identifiers on identifiers.identifier_id = assigned.identifier_id
    inner join anchors on anchors.cluster_id = assigned.cluster_id
)

select * from final
