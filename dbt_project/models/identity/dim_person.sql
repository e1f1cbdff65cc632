{#- One row per person (grain: person_id): the best email, name and title, the current account, the CRM
    contacts behind the person and how sure the resolution is (the lowest confidence among the links that made
    the person; 1.0 for a single identifier). -#}
with

bridge as (
    select * from {{ ref('bridge_person_identifier') }}
),

resolved as (
    select * from {{ ref('int_identifiers_resolved') }}
),

contacts as (
    select * from {{ ref('int_contacts_resolved') }}
),

prospects as (
    select * from {{ ref('stg_sales_engagement__prospects') }}
),

segment_events as (
    select * from {{ ref('stg_segment__events') }}
),

person_accounts as (
    select * from {{ ref('int_person_accounts_dated') }}
),

segment_identities as (
    -- the names an identify call carries, under each id it names: the anonymousId of a browser, the userId of a
    -- server-side call (docs/landing.md: anonymousId or userId, not necessarily both)
    select 'segment_anonymous_id:' || anonymous_id as identifier_id, occurred_at, first_name, last_name
    from segment_events
    where call_type = 'identify' and first_name is not null and anonymous_id is not null
    union all
    select 'segment_user_id:' || user_id, occurred_at, first_name, last_name
    from segment_events
    where call_type = 'identify' and first_name is not null and user_id is not null
),

profiles as (
    -- name and title candidates: the CRM first, then the sales-engagement tool, then what the visitor typed
    select contacts.person_id, 1 as source_rank, contacts.updated_at as seen_at,
           contacts.first_name, contacts.last_name, contacts.job_title
    from contacts
    where not contacts.is_archived
    union all
    select bridge.person_id, 2, prospects.updated_at, prospects.first_name, prospects.last_name, prospects.job_title
    from bridge
    inner join prospects on bridge.identifier_id = 'prospect_id:' || cast(prospects.prospect_id as {{ dbt.type_string() }})
    union all
    select bridge.person_id, 3, segment_identities.occurred_at, segment_identities.first_name,
           segment_identities.last_name, cast(null as {{ dbt.type_string() }})
    from bridge
    inner join segment_identities on bridge.identifier_id = segment_identities.identifier_id
),

best_profiles as (
    select
        person_id,
        first_name,
        last_name,
        job_title,
        -- ties (one source, one time) break on the values, so a rebuild picks the same profile
        row_number() over (partition by person_id
                           order by source_rank nulls last, seen_at desc, job_title nulls last, last_name nulls last, first_name nulls last) as profile_rank
    from profiles
),

best_emails as (
    -- the most recently seen work address, else a personal one; role and junk addresses only as a last resort
    select
        bridge.person_id,
        bridge.identifier_value as email,
        row_number() over (
            partition by bridge.person_id
            order by (bridge.is_role_address or bridge.is_junk_address) nulls last, bridge.is_freemail nulls last,
                     bridge.last_seen_at desc, bridge.identifier_value nulls last
        ) as email_rank
    from bridge
    where bridge.identifier_type = 'email'
),

crm_contacts as (
    select
        person_id,
        {{ sorted_list_agg('contact_id') }} as crm_contact_ids,
        min({{ dbt.safe_cast('contact_id', api.Column.translate_type('bigint')) }})
            filter (where not is_archived) as primary_contact_id
    from contacts
    group by person_id
),

persons as (
    select
        bridge.person_id,
        min(resolved.anchor_identifier_id) as anchor_identifier_id,
        count(*) as identifier_count,
        min(bridge.link_confidence) as confidence,
        bool_or(resolved.is_fuzzy_joined) as is_fuzzy_joined,
        bool_or(resolved.is_oversized_cluster) as is_oversized_cluster,
        bool_or(bridge.identifier_type = 'email' and (bridge.is_role_address or bridge.is_junk_address))
            and not bool_or(bridge.identifier_type = 'email'
                            and not (bridge.is_role_address or bridge.is_junk_address)) as is_shared_mailbox,
        min(bridge.first_seen_at) as first_seen_at,
        max(bridge.last_seen_at) as last_seen_at
    from bridge
    inner join resolved on resolved.identifier_id = bridge.identifier_id
    group by bridge.person_id
),

final as (
    select
        persons.person_id,
        best_emails.email as best_email,
        best_profiles.first_name,
        best_profiles.last_name,
        best_profiles.job_title,
        current_accounts.account_id,
        current_accounts.account_domain,
        cast(crm_contacts.primary_contact_id as {{ dbt.type_string() }}) as primary_crm_contact_id,
        crm_contacts.crm_contact_ids,
        persons.anchor_identifier_id,
        persons.identifier_count,
        persons.confidence,
        persons.is_fuzzy_joined,
        persons.is_oversized_cluster,
        persons.is_shared_mailbox,
        persons.first_seen_at,
        persons.last_seen_at
    from persons
    left join best_emails on best_emails.person_id = persons.person_id and best_emails.email_rank = 1
    left join best_profiles on best_profiles.person_id = persons.person_id and best_profiles.profile_rank = 1
    left join person_accounts as current_accounts
        on current_accounts.person_id = persons.person_id and current_accounts.is_current
    left join crm_contacts on crm_contacts.person_id = persons.person_id
)

select * from final
