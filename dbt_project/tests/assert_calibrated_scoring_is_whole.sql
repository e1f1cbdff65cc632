-- With calibrated weights (REVOPS_SCORING_WEIGHTS=calibrated) fct_lead_scores cross-joins the one model row and
-- reads the curve: an empty or doubled model table would silently drop or double every score, and a curve that
-- leaves a gap gives some people no probability. `revops calibrate scoring` writes all four tables in one
-- transaction; this guards against a hand edit or a partial copy. Hand-set builds skip it.
{{ config(group='decisions', enabled=var('scoring_weights') == 'calibrated') }}

with

model_rows as (
    select count(*) as model_rows from {{ source('calibration', 'scoring_model_calibrated') }}
),

persons as (
    select count(*) as persons from {{ ref('int_persons_fit_scored') }}
),

scores as (
    select count(*) as scores, count(p_opportunity_30d) as with_p from {{ ref('fct_lead_scores') }}
),

final as (
    select model_rows.model_rows, persons.persons, scores.scores, scores.with_p
    from model_rows
    cross join persons
    cross join scores
    where model_rows.model_rows <> 1 or scores.scores <> persons.persons or scores.with_p <> scores.scores
)

select * from final
