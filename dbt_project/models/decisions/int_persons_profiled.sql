{#- What the decisions read of each person's current account (dim_account) and primary CRM contact (grain:
    person_id): the title, the account's size, industry, country and owner, the contact's country and owner. Fit
    scores the profile, routing takes the owner from it. Also since when the warehouse could know each part of the
    profile, from the first sighting of the identifiers that bring it (bridge_person_identifier): the person as a
    lead (an email, CRM contact or sales prospect: someone to contact), their account (a CRM contact or a work
    email: its domain), their title (a CRM contact or prospect). Calibration reads a field as unknown at a past
    cut-off before these: a contact created when a meeting was booked must not tell the past about the future. -#}
with

persons as (
    select * from {{ ref('dim_person') }}
),

accounts as (
    select * from {{ ref('dim_account') }}
),

contacts as (
    select * from {{ ref('stg_hubspot__contacts') }}
),

identifiers as (
    select * from {{ ref('bridge_person_identifier') }}
),

known_since as (
    select
        person_id,
        min(case when identifier_type in ('email', 'crm_contact_id', 'prospect_id') then first_seen_at end)
            as lead_known_at,
        min(case when identifier_type = 'crm_contact_id'
                   or (identifier_type = 'email' and is_freemail = false and is_role_address = false)
                 then first_seen_at end) as account_known_at,
        min(case when identifier_type in ('crm_contact_id', 'prospect_id') then first_seen_at end) as title_known_at
    from identifiers
    group by person_id
),

final as (
    select
        persons.person_id,
        persons.account_id,
        persons.primary_crm_contact_id,
        persons.job_title,
        accounts.employee_count,
        accounts.industry,
        accounts.country as account_country,
        accounts.owner_id as account_owner_id,
        contacts.country as contact_country,
        contacts.owner_id as contact_owner_id,
        known_since.lead_known_at,
        known_since.account_known_at,
        known_since.title_known_at
    from persons
    left join accounts on accounts.account_id = persons.account_id
    left join contacts on contacts.contact_id = persons.primary_crm_contact_id
    left join known_since on known_since.person_id = persons.person_id
)

select * from final
