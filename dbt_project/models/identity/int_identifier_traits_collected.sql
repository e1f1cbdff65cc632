{#- What each identifier says about its person, for the fuzzy rule and the person's account history: a
    normalized full name, or a company domain (CRM company association, Segment group call, work-email domain),
    with when it was seen. One row per (identifier, trait, value, source). -#}
with

identifiers as (
    select * from {{ ref('int_identifiers_collected') }}
),

contacts as (
    select * from {{ ref('stg_hubspot__contacts') }}
),

companies as (
    select * from {{ ref('stg_hubspot__companies') }}
),

associations as (
    select * from {{ ref('stg_hubspot__associations') }}
),

prospects as (
    select * from {{ ref('stg_sales_engagement__prospects') }}
),

segment_events as (
    select * from {{ ref('stg_segment__events') }}
),

segment_visitors as (
    -- a call's traits belong to the visitor it was made for: its userId when present, and its anonymousId
    select 'segment_anonymous_id:' || trim(anonymous_id) as identifier_id, * from segment_events
    where anonymous_id is not null
    union all
    select 'segment_user_id:' || trim(user_id), * from segment_events
    where user_id is not null
),

traits as (
    select 'crm_contact_id:' || contact_id as identifier_id, 'full_name' as trait,
           {{ normalize_name('first_name', 'last_name') }} as trait_value, 'crm' as source, created_at as seen_at
    from contacts
    union all
    select 'crm_contact_id:' || contacts.contact_id, 'company_domain',
           {{ normalize_domain('companies.company_domain') }}, 'crm', contacts.created_at
    from contacts
    inner join associations
        on associations.from_object = 'contacts' and associations.to_object = 'companies'
        and associations.from_object_id = contacts.contact_id
    inner join companies on companies.company_id = associations.to_object_id
    union all
    select 'prospect_id:' || cast(prospect_id as {{ dbt.type_string() }}), 'full_name',
           {{ normalize_name('first_name', 'last_name') }}, 'sales_engagement', updated_at
    from prospects
    union all
    select identifier_id, 'full_name', {{ normalize_name('first_name', 'last_name') }}, 'segment', occurred_at
    from segment_visitors
    where call_type in ('identify', 'track') and (first_name is not null or last_name is not null)
    union all
    select identifier_id, 'company_domain', {{ normalize_domain('group_domain') }}, 'segment', occurred_at
    from segment_visitors
    where call_type = 'group'
    union all
    select identifier_id, 'company_domain', email_domain, source, first_seen_at
    from identifiers
    where identifier_type = 'email' and not is_freemail
),

final as (
    select
        identifier_id,
        trait,
        trait_value,
        source,
        min(seen_at) as first_seen_at,
        max(seen_at) as last_seen_at
    from traits
    where trait_value is not null
    group by identifier_id, trait, trait_value, source
)

select * from final
