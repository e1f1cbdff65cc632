{#- Every extracted CRM contact (archived ones included) with its person (grain: contact_id): the one join of
    contacts to the identity bridge that the person's profile, the guardrails, the funnel and speed-to-lead's
    fallback owner read. -#}
with

contacts as (
    select * from {{ ref('stg_hubspot__contacts') }}
),

bridge as (
    select * from {{ ref('bridge_person_identifier') }}
),

final as (
    select
        contacts.*,
        bridge.person_id
    from contacts
    inner join bridge on bridge.identifier_id = 'crm_contact_id:' || contacts.contact_id
)

select * from final
