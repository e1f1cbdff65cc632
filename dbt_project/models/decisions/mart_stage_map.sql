{#- The stage map (docs/decisions.md, playbook 004 "CRM truth"): one row per person (grain: person_id) with the
    stage, the last action and its date, the next action as a sentence an SDR can act on, when it is due and why,
    the owner, the decision that is blocked, the evidence note, the open risk and the suppression reason — the
    decisions of int_next_actions_decided fitted to each owner's capacity by int_next_actions_scheduled. This is
    what the reverse ETL writes into the CRM. -#}
with

decided as (
    select * from {{ ref('int_next_actions_decided') }}
),

scheduled as (
    select * from {{ ref('int_next_actions_scheduled') }}
),

final as (
    select
        decided.person_id,
        decided.stage,
        decided.route,
        decided.route_reason,
        decided.route_confidence,
        coalesce(scheduled.owner_id, decided.owner_id) as owner_id,
        case
            when scheduled.is_handed_over and scheduled.owner_id = '{{ var("fallback_owner_queue") }}'
                then 'fallback_queue'
            when scheduled.is_handed_over then 'capacity_handover'
            else decided.owner_source
        end as owner_source,
        decided.lead_score,
        decided.grade,
        decided.last_action,
        decided.last_action_at,
        decided.next_action_kind,
        decided.task_cycle,
        decided.next_action,
        coalesce(scheduled.due_date, decided.next_action_date) as next_action_date,
        case
            when scheduled.person_id is null then null
            when scheduled.is_handed_over and scheduled.owner_id = '{{ var("fallback_owner_queue") }}'
                then 'hand raise due today: ' || decided.owner_id || ' and the territory''s owners had no room, '
                     || 'so the fallback queue has it'
            when scheduled.is_handed_over
                then 'hand raise due today: ' || decided.owner_id || ' had no room, so ' || scheduled.owner_id
                     || ' has it'
            when decided.is_hand_raise then 'hand raise: due today, never deferred'
            when scheduled.working_days_deferred > 0
                then 'moved ' || cast(scheduled.working_days_deferred as {{ dbt.type_string() }}) || ' working day'
                     || case when scheduled.working_days_deferred > 1 then 's' else '' end
                     || ': the owner is at capacity (' || cast(scheduled.decided_owner_capacity as {{ dbt.type_string() }})
                     || ' actions a day)'
            when scheduled.due_date > scheduled.decided_date then 'due on the next working day'
            when scheduled.due_date = scheduled.decided_date then 'due on its day'
            else 'due today'
        end as due_reason,
        cast(coalesce(scheduled.working_days_deferred, 0) as integer) as deferred_working_days,
        decided.blocked_decision,
        decided.evidence_note,
        nullif(concat_ws('; ',
            decided.open_risk,
            case when scheduled.is_capacity_exception then 'hand raise handed over: its owner was full' end), '')
            as open_risk,
        decided.suppression_reason,
        decided.is_exception or coalesce(scheduled.is_capacity_exception, false) as is_exception,
        decided.as_of
    from decided
    left join scheduled on scheduled.person_id = decided.person_id
)

select * from final
