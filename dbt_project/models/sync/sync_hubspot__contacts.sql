{#- The desired state of the CRM contacts (docs/sync.md), one row per contact to write (grain: sync_key): every person
    with a live CRM contact (keyed by its id: batch/update), and persons without one that routing pursues or sends
    to enrichment and that have a usable work or personal address (keyed by email: batch/upsert). Only properties
    seeds/field_ownership gives to the warehouse are carried, plus hubspot_owner_id (if_blank) only where the
    extracted contact has no owner and routing found a real owner. payload_hash is the md5 of the mapped values the
    reverse ETL diffs against the last confirmed state. -#}
with

persons as (
    select * from {{ ref('dim_person') }}
),

stage_map as (
    select * from {{ ref('mart_stage_map') }}
),

scores as (
    select * from {{ ref('fct_lead_scores') }}
),

contacts as (
    select * from {{ ref('stg_hubspot__contacts') }}
),

bridge as (
    select * from {{ ref('bridge_person_identifier') }}
),

ownership as (
    select * from {{ ref('field_ownership') }}
    where object = 'contacts'
),

targets as (
    select
        persons.person_id,
        persons.primary_crm_contact_id as crm_contact_id,
        case when persons.primary_crm_contact_id is null then persons.best_email end as email,
        contacts.owner_id as crm_owner_id
    from persons
    inner join stage_map on stage_map.person_id = persons.person_id
    left join contacts on contacts.contact_id = persons.primary_crm_contact_id
    left join bridge
        on bridge.identifier_id = 'email:' || persons.best_email
    where persons.primary_crm_contact_id is not null
        or (stage_map.route in ('pursue', 'enrich') and persons.best_email is not null
            and not coalesce(bridge.is_role_address or bridge.is_junk_address, false))
),

mapped as (
    select
        case when targets.crm_contact_id is not null then 'id:' || targets.crm_contact_id
             else 'email:' || targets.email end as sync_key,
        targets.person_id,
        targets.crm_contact_id,
        targets.email,
        targets.person_id as revops_person_id,
        cast(cast(round(scores.lead_score) as integer) as {{ dbt.type_string() }}) as revops_lead_score,
        scores.grade as revops_lead_grade,
        coalesce(scores.top_reasons, '') as revops_score_reasons,
        stage_map.route as revops_route,
        stage_map.stage as revops_stage,
        stage_map.next_action as revops_next_action,
        cast(stage_map.next_action_date as {{ dbt.type_string() }}) as revops_next_action_date,
        stage_map.owner_id as revops_suggested_owner,
        coalesce(stage_map.suppression_reason, '') as revops_suppression_reason,
        -- if_blank: only where the CRM has no owner and routing found a CRM owner (not the fallback queue). Once
        -- the CRM holds the owner written, it stays in the payload: dropping it would change the hash and re-send
        -- every other property of the 11,161 contacts written so (M) the next time the CRM is extracted.
        case when (select min(owner) from ownership where property = 'hubspot_owner_id') = 'if_blank'
                  and (targets.crm_owner_id is null or targets.crm_owner_id = stage_map.owner_id)
                  and stage_map.owner_id <> '{{ var("fallback_owner_queue") }}'
             then stage_map.owner_id end as hubspot_owner_id
    from targets
    inner join stage_map on stage_map.person_id = targets.person_id
    inner join scores on scores.person_id = targets.person_id
),

final as (
    select
        mapped.*,
        md5(concat_ws('|', revops_person_id, revops_lead_score, revops_lead_grade, revops_score_reasons,
                      revops_route, revops_stage, revops_next_action, revops_next_action_date,
                      revops_suggested_owner, revops_suppression_reason, coalesce(hubspot_owner_id, '')))
            as payload_hash
    from mapped
)

select * from final
