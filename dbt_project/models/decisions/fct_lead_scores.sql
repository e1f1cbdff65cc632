{#- The lead score of every person as of int_as_of_dated (grain: person_id): fit (0-50, seeds/icp_rules) +
    intent (0-50, decayed signals, seeds/signal_weights) = lead_score (0-100), the grade from the score bands
    (vars grade_*_min_score), the three strongest reasons as evidence text and the fit fields that are unknown.
    With calibrated weights (var scoring_weights) also p_opportunity_30d, the probability of an opportunity within
    30 days: the points are the fitted model's log-odds × points_per_log_odds, so
    logit = intercept + (fit_score + uncapped intent) / points_per_log_odds, calibrated by a Platt curve
    (config.scoring_model_calibrated, written by `revops calibrate scoring`). Hand-set weights have no probability. -#}
with

fit as (
    select * from {{ ref('int_persons_fit_scored') }}
),

intent as (
    select * from {{ ref('int_persons_intent_scored') }}
),

as_of as (
    select * from {{ ref('int_as_of_dated') }}
),
{% if var('scoring_weights') == 'calibrated' %}
scoring_model as (
    select * from {{ source('calibration', 'scoring_model_calibrated') }}
),
{% endif %}

scored as (
    select
        fit.person_id,
        fit.account_id,
        as_of.as_of,
        fit.fit_score,
        coalesce(intent.intent_score, 0) as intent_score,
        fit.fit_score + coalesce(intent.intent_score, 0) as lead_score,
        {%- if var('scoring_weights') == 'calibrated' %}
        cast(1.0 / (1.0 + exp(-(scoring_model.platt_slope
                                * (scoring_model.intercept_log_odds
                                   + (fit.fit_score + coalesce(intent.intent_points_uncapped, 0))
                                     / scoring_model.points_per_log_odds)
                                + scoring_model.platt_intercept))) as double) as p_opportunity_30d,
        {%- else %}
        cast(null as double) as p_opportunity_30d,
        {%- endif %}
        fit.employees_points,
        fit.industry_points,
        fit.territory_points,
        fit.seniority_points,
        fit.unknown_fit_fields,
        fit.territory,
        fit.seniority,
        cast(coalesce(intent.signal_count, 0) as bigint) as signal_count,
        intent.days_since_last_signal,
        intent.reason_1,
        intent.reason_2,
        intent.reason_3
    from fit
    left join intent on intent.person_id = fit.person_id
    cross join as_of
    {%- if var('scoring_weights') == 'calibrated' %}
    cross join scoring_model
    {%- endif %}
),

final as (
    select
        scored.*,
        case
            when lead_score >= {{ var('grade_a_min_score') }} then 'A'
            when lead_score >= {{ var('grade_b_min_score') }} then 'B'
            when lead_score >= {{ var('grade_c_min_score') }} then 'C'
            else 'D'
        end as grade,
        nullif(concat_ws('; ', reason_1, reason_2, reason_3), '') as top_reasons
    from scored
)

select * from final
