{#- The deterministic identity edges (docs/identity.md), one row per (identifier pair, rule), the pair ordered so that
    identifier_id_a < identifier_id_b. The fuzzy name + domain edges compare clusters and are built later
    (int_identity_edges_fuzzy). Role and junk addresses never bridge people: their only edge is the one to the
    CRM contact that carries them, and only when a single contact does. -#}
with

identifiers as (
    select * from {{ ref('int_identifiers_collected') }}
),

contacts as (
    select * from {{ ref('stg_hubspot__contacts') }}
),

listed as (
    select * from {{ ref('int_identifiers_listed') }}
),

segment_events as (
    select * from {{ ref('stg_segment__events') }}
),

identity_rules as (
    select * from {{ ref('identity_rules') }}
),

segment_ids as (
    select
        message_id,
        call_type,
        event_name,
        occurred_at,
        'segment_anonymous_id:' || trim(anonymous_id) as anonymous_node,
        'segment_user_id:' || trim(user_id) as user_node,
        'email:' || {{ normalize_email('email') }} as email_node
    from segment_events
),

pairs as (
    select 'crm_contact_id:' || contact_id as node_1, 'email:' || {{ normalize_email('email') }} as node_2,
           'crm_contact_email' as rule, created_at as seen_at, 'CRM contact ' || contact_id as evidence
    from contacts
    union all
    select 'crm_contact_id:' || record_id, 'crm_contact_id:' || identifier_value,
           'crm_merge', updated_at, 'CRM contact ' || record_id || ' merged ' || identifier_value
    from listed
    where identifier_type = 'crm_contact_id'
    union all
    select 'prospect_id:' || record_id, 'email:' || identifier_value,
           'prospect_email', updated_at, 'prospect ' || record_id
    from listed
    where identifier_type = 'email'
    union all
    -- one identify call links whichever of anonymousId, userId and traits.email it carries
    select anonymous_node, user_node, 'segment_identify', occurred_at, 'identify ' || message_id
    from segment_ids where call_type = 'identify'
    union all
    select anonymous_node, email_node, 'segment_identify', occurred_at, 'identify ' || message_id
    from segment_ids where call_type = 'identify'
    union all
    select user_node, email_node, 'segment_identify', occurred_at, 'identify ' || message_id
    from segment_ids where call_type = 'identify'
    union all
    select coalesce(user_node, anonymous_node), email_node, 'segment_form_email', occurred_at,
           event_name || ' ' || message_id
    from segment_ids where call_type = 'track' and event_name in ('Demo Requested', 'Contact Sales Submitted')
    union all
    select anonymous_node, user_node, 'segment_user_anonymous', occurred_at, call_type || ' ' || message_id
    from segment_ids where call_type <> 'identify'
),

ordered as (
    select
        least(node_1, node_2) as identifier_id_a,
        greatest(node_1, node_2) as identifier_id_b,
        rule,
        min(seen_at) as first_seen_at,
        count(*) as evidence_count,
        min(evidence) as example_evidence
    from pairs
    where node_1 is not null and node_2 is not null and node_1 <> node_2
    group by least(node_1, node_2), greatest(node_1, node_2), rule
),

shared_addresses as (
    -- role/junk addresses, and how many CRM contacts carry each
    select
        identifiers.identifier_id,
        count(distinct ordered.identifier_id_a) filter (where ordered.rule = 'crm_contact_email') as crm_contacts
    from identifiers
    left join ordered on ordered.identifier_id_b = identifiers.identifier_id
    where identifiers.is_role_address or identifiers.is_junk_address
    group by 1
),

guarded as (
    select ordered.*
    from ordered
    left join shared_addresses as shared_a on shared_a.identifier_id = ordered.identifier_id_a
    left join shared_addresses as shared_b on shared_b.identifier_id = ordered.identifier_id_b
    where (shared_a.identifier_id is null and shared_b.identifier_id is null)
        or (ordered.rule = 'crm_contact_email' and coalesce(shared_b.crm_contacts, 0) = 1
            and shared_a.identifier_id is null)
),

final as (
    select
        guarded.identifier_id_a,
        guarded.identifier_id_b,
        guarded.rule,
        identity_rules.confidence,
        identity_rules.is_strong,
        guarded.first_seen_at,
        guarded.evidence_count,
        guarded.example_evidence
    from guarded
    inner join identity_rules on identity_rules.rule = guarded.rule
)

select * from final
