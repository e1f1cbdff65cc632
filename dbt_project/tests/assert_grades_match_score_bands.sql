-- Every grade is the band its lead_score falls in (vars grade_*_min_score).
select person_id, lead_score, grade
from {{ ref('fct_lead_scores') }}
where grade <> case
    when lead_score >= {{ var('grade_a_min_score') }} then 'A'
    when lead_score >= {{ var('grade_b_min_score') }} then 'B'
    when lead_score >= {{ var('grade_c_min_score') }} then 'C'
    else 'D' end
