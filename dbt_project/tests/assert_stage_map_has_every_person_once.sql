-- One stage-map row per person: no person missing (uniqueness is a column test).
select dim_person.person_id
from {{ ref('dim_person') }} as dim_person
left join {{ ref('mart_stage_map') }} as stage_map on stage_map.person_id = dim_person.person_id
where stage_map.person_id is null
