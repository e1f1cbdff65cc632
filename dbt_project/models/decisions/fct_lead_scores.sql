{#- The lead score of every person as of int_as_of_dated (grain: person_id): fit (0-50, seeds/icp_rules) +
    intent (0-50, decayed signals, seeds/signal_weights) = lead_score (0-100), the grade from the score bands
    (vars grade_*_min_score), the three strongest reasons as evidence text and the fit fields that are unknown.
    With calibrated weights (var scoring_weights) also p_opportunity_30d, the probability of an opportunity within
    30 days: the points are the fitted model's log-odds × points_per_log_odds, so
    logit = intercept + (fit_score + uncapped intent) / points_per_log_odds (config.scoring_model_calibrated),
    turned into a probability by the isotonic calibration curve (config.scoring_curve_calibrated: linear between its
    points, flat beyond the ends), both written by `revops calibrate scoring`. Hand-set weights have no
    probability. -#}
-- the calibration tables are named whatever the var (see macro scoring_weights): a recalibration rebuilds this
-- depends_on: {{ source('calibration', 'scoring_model_calibrated') }}
-- depends_on: {{ source('calibration', 'scoring_curve_calibrated') }}
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

scoring_curve as (
    select * from {{ source('calibration', 'scoring_curve_calibrated') }}
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
        scoring_model.intercept_log_odds
            + (fit.fit_score + coalesce(intent.intent_points_uncapped, 0)) / scoring_model.points_per_log_odds
            as logit,
        {%- else %}
        cast(null as double) as logit,
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

calibrated as (
    select
        scored.*,
        {%- if var('scoring_weights') == 'calibrated' %}
        cast(case
            when scoring_curve.logit_from is null or scoring_curve.logit_to is null then scoring_curve.p_from
            else scoring_curve.p_from + (scored.logit - scoring_curve.logit_from)
                 * (scoring_curve.p_to - scoring_curve.p_from) / (scoring_curve.logit_to - scoring_curve.logit_from)
        end as double) as p_opportunity_30d
    from scored
    left join scoring_curve
        on (scoring_curve.logit_from is null or scored.logit >= scoring_curve.logit_from)
        and (scoring_curve.logit_to is null or scored.logit < scoring_curve.logit_to)
        {%- else %}
        cast(null as double) as p_opportunity_30d
    from scored
        {%- endif %}
),

final as (
    select
        calibrated.*,
        case
            when lead_score >= {{ var('grade_a_min_score') }} then 'A'
            when lead_score >= {{ var('grade_b_min_score') }} then 'B'
            when lead_score >= {{ var('grade_c_min_score') }} then 'C'
            else 'D'
        end as grade,
        nullif(concat_ws('; ', reason_1, reason_2, reason_3), '') as top_reasons
    from calibrated
)

select * from final
