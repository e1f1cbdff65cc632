{{ config(group="decisions") }}
-- Suppressed people carry no send (email or nurture) and no call; nobody gets an email action while the
-- frequency cap is reached or their owner's sending domain is paused.
with

stage_map as (
    select * from {{ ref('mart_stage_map') }}
),

guardrails as (
    select * from {{ ref('int_persons_guarded') }}
)

select stage_map.person_id, stage_map.stage, stage_map.next_action_kind, stage_map.blocked_decision
from stage_map
inner join guardrails on guardrails.person_id = stage_map.person_id
where (stage_map.stage = 'suppressed' and stage_map.next_action_kind <> 'none')
    or (stage_map.next_action_kind = 'email'
        and (guardrails.is_frequency_capped or stage_map.blocked_decision like 'email: sending domain%'))
