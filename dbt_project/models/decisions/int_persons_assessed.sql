{#- Each person with their lead score and guardrails (grain: person_id): the facts routing and the next actions
    both decide on, joined once. -#}
with

persons as (
    select * from {{ ref('dim_person') }}
),

scores as (
    select * from {{ ref('fct_lead_scores') }}
),

guardrails as (
    select * from {{ ref('int_persons_guarded') }}
),

final as (
    select
        persons.person_id,
        persons.first_seen_at,
        persons.best_email,
        persons.primary_crm_contact_id,
        persons.confidence as identity_confidence,
        persons.is_fuzzy_joined,
        persons.is_oversized_cluster,
        persons.is_shared_mailbox,
        scores.lead_score,
        scores.p_opportunity_30d,
        scores.grade,
        scores.intent_score,
        scores.signal_count,
        scores.territory,
        scores.unknown_fit_fields,
        scores.employees_points,
        scores.industry_points,
        scores.territory_points,
        scores.seniority_points,
        scores.top_reasons,
        scores.reason_1,
        guardrails.suppression_reason,
        guardrails.is_contact_blocked,
        guardrails.is_frequency_capped,
        guardrails.touches_in_cap_window,
        guardrails.last_touch_at,
        guardrails.last_sales_touch_at,
        guardrails.last_touch_channel,
        guardrails.last_reply_at,
        guardrails.last_meeting_booked_at,
        guardrails.last_meeting_at
    from persons
    inner join scores on scores.person_id = persons.person_id
    inner join guardrails on guardrails.person_id = persons.person_id
)

select * from final
