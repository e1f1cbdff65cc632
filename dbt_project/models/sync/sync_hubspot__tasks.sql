{#- The desired CRM tasks (docs/sync.md, Tasks), one row per actionable next action of the stage map (grain:
    revops_action_key = person_id:next_action_kind:task_cycle): every next action a person must do (the kinds
    seeds/next_action_kinds marks is_task: call, email, prepare, enrich, review) becomes a HubSpot task with the sentence as subject, the evidence, open risk and
    blocked decision as body lines, the routed owner (none when it is the fallback queue), the due time (the next
    action date at 00:00 UTC), priority and type. A task is associated with the person's CRM contact: a person
    without one keeps the row with crm_contact_id null, and the reverse ETL rejects it (no task; counted as
    rejected in the plan) until the contact exists. payload_hash is the md5 of the mapped task properties the
    reverse ETL diffs against the last confirmed state. -#}
{%- set newline = '\n' -%}
with

task_kinds as (
    select next_action_kind from {{ ref('next_action_kinds') }}
    where is_task
),

stage_map as (
    select * from {{ ref('mart_stage_map') }}
    where next_action_kind in (select next_action_kind from task_kinds)
),

persons as (
    select * from {{ ref('dim_person') }}
),

owners as (
    select * from {{ ref('dim_owner') }}
),

follow_ups as (
    select * from {{ ref('fct_follow_ups') }}
),

pending_follow_ups as (
    -- a reply or a held meeting whose follow-up SLA (seeds/sla_tiers) is still running and not yet met
    select distinct person_id
    from follow_ups
    where sla_status = 'pending'
),

mapped as (
    select
        stage_map.person_id || ':' || stage_map.next_action_kind || ':' || cast(stage_map.task_cycle as {{ dbt.type_string() }})
            as revops_action_key,
        stage_map.person_id,
        stage_map.next_action_kind,
        -- the n-th task for this person and kind: one more after the rep completed the last one by hand
        stage_map.task_cycle,
        persons.primary_crm_contact_id as crm_contact_id,
        stage_map.next_action as hs_task_subject,
        concat_ws('{{ newline }}',
            'Evidence: ' || stage_map.evidence_note,
            'Open risk: ' || stage_map.open_risk,
            'Blocked decision: ' || stage_map.blocked_decision) as hs_task_body,
        -- HubSpot's due time: a datetime; the date's midnight UTC, in the form the CRM returns it
        cast(stage_map.next_action_date as {{ dbt.type_string() }}) || 'T00:00:00.000Z' as hs_timestamp,
        'NOT_STARTED' as hs_task_status,
        -- the priority rule (see the yml): a hand raise or a follow-up inside its SLA first, then calls and emails
        case
            when stage_map.next_action_kind in ('call', 'email', 'reply')
                and (stage_map.route_reason = 'hand_raiser' or pending_follow_ups.person_id is not null)
                then 'HIGH'
            when stage_map.next_action_kind in ('call', 'email', 'reply') then 'MEDIUM'
            else 'LOW'
        end as hs_task_priority,
        case stage_map.next_action_kind
            when 'call' then 'CALL'
            when 'email' then 'EMAIL'
            when 'reply' then 'EMAIL'
            else 'TODO'
        end as hs_task_type,
        -- only a real CRM owner: a task of the fallback queue stays unassigned
        case when owners.is_queue = false then stage_map.owner_id end as hubspot_owner_id
    from stage_map
    inner join persons on persons.person_id = stage_map.person_id
    left join owners on owners.owner_id = stage_map.owner_id
    left join pending_follow_ups on pending_follow_ups.person_id = stage_map.person_id
),

final as (
    select
        mapped.*,
        md5(concat_ws('|', revops_action_key, hs_task_subject, coalesce(hs_task_body, ''), hs_timestamp,
                      hs_task_status, hs_task_priority, hs_task_type, coalesce(hubspot_owner_id, '')))
            as payload_hash
    from mapped
)

select * from final
