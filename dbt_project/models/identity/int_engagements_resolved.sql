{#- CRM calls and meetings (not archived) with the person of each contact they are logged on (grain:
    engagement_type, engagement_id, person_id): one join the signals, guardrails, touches and follow-ups share. -#}
with

calls as (
    select * from {{ ref('stg_hubspot__calls') }}
),

meetings as (
    select * from {{ ref('stg_hubspot__meetings') }}
),

associations as (
    select * from {{ ref('stg_hubspot__associations') }}
    where to_object = 'contacts'
),

bridge as (
    select * from {{ ref('bridge_person_identifier') }}
    where identifier_type = 'crm_contact_id'
),

engagements as (
    select 'call' as engagement_type, 'calls' as crm_object, call_id as engagement_id, owner_id, call_at as occurred_at,
           created_at, call_direction, cast(null as {{ dbt.type_string() }}) as meeting_outcome
    from calls
    where not is_archived
    union all
    select 'meeting', 'meetings', meeting_id, owner_id, meeting_at, created_at, cast(null as {{ dbt.type_string() }}), meeting_outcome
    from meetings
    where not is_archived
),

final as (
    select
        engagements.engagement_type,
        engagements.engagement_id,
        bridge.person_id,
        min(associations.to_object_id) as contact_id,
        min(engagements.owner_id) as owner_id,
        min(engagements.occurred_at) as occurred_at,
        min(engagements.created_at) as created_at,
        min(engagements.call_direction) as call_direction,
        min(engagements.meeting_outcome) as meeting_outcome
    from engagements
    inner join associations
        on associations.from_object = engagements.crm_object
        and associations.from_object_id = engagements.engagement_id
    inner join bridge on bridge.identifier_value = associations.to_object_id
    group by engagements.engagement_type, engagements.engagement_id, bridge.person_id
)

select * from final
