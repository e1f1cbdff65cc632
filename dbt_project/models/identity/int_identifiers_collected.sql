{#- Every identifier the sources carry, one row per (identifier, source), normalized (docs/identity.md). An identifier
    node is `<identifier_type>:<value>`: the same email from the CRM, a prospect and the ESP is one node, which is
    how the exact-email rule joins them. -#}
with

contacts as (
    select * from {{ ref('stg_hubspot__contacts') }}
),

prospects as (
    select * from {{ ref('stg_sales_engagement__prospects') }}
),

segment_events as (
    select * from {{ ref('stg_segment__events') }}
),

esp_events as (
    select * from {{ ref('stg_esp__events') }}
),

listed as (
    select * from {{ ref('int_identifiers_listed') }}
),

freemail_domains as (
    select * from {{ ref('freemail_domains') }}
),

role_address_prefixes as (
    select * from {{ ref('role_address_prefixes') }}
),

merged_away_contacts as (
    -- docs/identity.md: every id in a contact's hs_merged_object_ids is an identifier of that contact's person, also when
    -- the merged-away record is not exported (HubSpot does not list it); the exported ones are sighted as contacts
    select distinct identifier_value as contact_id, created_at, updated_at
    from listed
    where identifier_type = 'crm_contact_id'
        and not exists (select 1 from contacts as exported where exported.contact_id = listed.identifier_value)
),

sightings as (
    select 'crm' as source, 'crm_contact_id' as identifier_type, contact_id as identifier_value,
           created_at as first_seen_at, updated_at as last_seen_at
    from contacts
    union all
    select 'crm', 'crm_contact_id', contact_id, created_at, updated_at
    from merged_away_contacts
    union all
    select 'crm', 'email', {{ normalize_email('email') }}, created_at, updated_at
    from contacts
    union all
    select 'sales_engagement', 'prospect_id', cast(prospect_id as {{ dbt.type_string() }}), updated_at, updated_at
    from prospects
    union all
    select source, identifier_type, identifier_value, updated_at, updated_at
    from listed
    where identifier_type = 'email'
    union all
    select 'segment', 'segment_anonymous_id', trim(anonymous_id), occurred_at, occurred_at
    from segment_events
    union all
    select 'segment', 'segment_user_id', trim(user_id), occurred_at, occurred_at
    from segment_events
    union all
    select 'segment', 'email', {{ normalize_email('email') }}, occurred_at, occurred_at
    from segment_events
    union all
    select 'esp', 'email', {{ normalize_email('recipient_email') }}, event_at, event_at
    from esp_events
),

collected as (
    select
        identifier_type || ':' || identifier_value as identifier_id,
        identifier_type,
        identifier_value,
        source,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        count(*) as sighting_count
    from sightings
    where nullif(identifier_value, '') is not null
    group by identifier_type, identifier_value, source
),

final as (
    select
        collected.*,
        case when collected.identifier_type = 'email'
            then split_part(collected.identifier_value, '@', 2) end as email_domain,
        coalesce(collected.identifier_type = 'email' and freemail_domains.domain is not null, false) as is_freemail,
        coalesce(role_address_prefixes.kind = 'role', false) as is_role_address,
        coalesce(role_address_prefixes.kind = 'junk', false) as is_junk_address
    from collected
    left join freemail_domains
        on freemail_domains.domain = split_part(collected.identifier_value, '@', 2)
        and collected.identifier_type = 'email'
    left join role_address_prefixes
        on role_address_prefixes.prefix = split_part(collected.identifier_value, '@', 1)
        and collected.identifier_type = 'email'
)

select * from final
