{#- The join key every later model uses: each identifier node with its person, how it is linked (the strongest
    rule among its edges inside the person, or the fuzzy rule when it came in with a fuzzy-joined cluster) and the
    sources that carry it. Grain: identifier_id. -#}
with

resolved as (
    select * from {{ ref('int_identifiers_resolved') }}
),

identifiers as (
    select * from {{ ref('int_identifiers_summarized') }}
),

edges as (
    select * from {{ ref('int_identity_edges_collected') }}
),

traits as (
    select * from {{ ref('int_identifier_traits_collected') }}
),

identity_rules as (
    select * from {{ ref('identity_rules') }}
),

edge_ends as (
    select identifier_id_a as identifier_id, identifier_id_b as other_identifier_id, rule, confidence from edges
    union all
    select identifier_id_b, identifier_id_a, rule, confidence from edges
),

strongest_links as (
    -- among the identifier's edges inside its first-pass cluster, the most confident
    select
        edge_ends.identifier_id,
        edge_ends.rule,
        edge_ends.confidence,
        row_number() over (partition by edge_ends.identifier_id
                           order by edge_ends.confidence desc, edge_ends.rule nulls last) as link_rank
    from edge_ends
    inner join resolved as self on self.identifier_id = edge_ends.identifier_id
    inner join resolved as other on other.identifier_id = edge_ends.other_identifier_id
    where self.first_pass_cluster_id = other.first_pass_cluster_id
),

own_accounts as (
    -- the company an identifier itself points at: a work-email domain, a contact's CRM company, a visitor's
    -- Segment group (the latest seen when it points at several)
    select
        identifier_id,
        {{ stable_id('acc_', 'trait_value') }} as account_id,
        row_number() over (partition by identifier_id order by first_seen_at desc, trait_value nulls last) as account_rank
    from traits
    where trait = 'company_domain'
),

anchor_clusters as (
    select person_id, first_pass_cluster_id as anchor_cluster_id
    from resolved
    where identifier_id = anchor_identifier_id
),

final as (
    select
        resolved.identifier_id,
        resolved.identifier_type,
        resolved.identifier_value,
        resolved.person_id,
        case
            when resolved.first_pass_cluster_id <> anchor_clusters.anchor_cluster_id then 'fuzzy_name_domain'
            when strongest_links.rule is not null then strongest_links.rule
            else 'single_identifier'
        end as link_rule,
        case
            when resolved.first_pass_cluster_id <> anchor_clusters.anchor_cluster_id then fuzzy.confidence
            else coalesce(strongest_links.confidence, 1.0)
        end as link_confidence,
        resolved.identifier_id = resolved.anchor_identifier_id as is_anchor,
        own_accounts.account_id,
        identifiers.sources,
        identifiers.sighting_count,
        identifiers.first_seen_at,
        identifiers.last_seen_at,
        identifiers.is_role_address,
        identifiers.is_junk_address,
        identifiers.is_freemail
    from resolved
    inner join identifiers on identifiers.identifier_id = resolved.identifier_id
    inner join anchor_clusters on anchor_clusters.person_id = resolved.person_id
    left join strongest_links
        on strongest_links.identifier_id = resolved.identifier_id and strongest_links.link_rank = 1
    left join own_accounts on own_accounts.identifier_id = resolved.identifier_id and own_accounts.account_rank = 1
    cross join (select confidence from identity_rules where rule = 'fuzzy_name_domain') as fuzzy
)

select * from final
