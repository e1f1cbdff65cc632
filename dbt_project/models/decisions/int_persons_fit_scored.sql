{#- Fit (0-50) per person from seeds/icp_rules (docs/decisions.md): employees band, industry and territory of the current
    account, seniority from the title (seeds/title_seniority). An unknown field scores 0 (or the calibrated table's
    '(unknown)' points) and is listed in
    unknown_fit_fields, so routing can send the person to enrichment. Grain: person_id. -#}
with

persons as (
    select * from {{ ref('int_persons_profiled') }}
),

icp_rules as (
    select * from {{ scoring_weights('icp_rules') }}
),

title_seniority as (
    select * from {{ ref('title_seniority') }}
),

territories as (
    select * from {{ ref('territories') }}
),

title_matches as (
    select
        persons.person_id,
        title_seniority.seniority,
        row_number() over (partition by persons.person_id
                           order by title_seniority.precedence nulls last, title_seniority.keyword nulls last) as match_rank
    from persons
    inner join title_seniority on lower(persons.job_title) like '%' || title_seniority.keyword || '%'
),

seniorities as (
    -- the first keyword of the title by precedence; a known title without one is an individual contributor
    select
        persons.person_id,
        coalesce(title_matches.seniority,
                 case when persons.job_title is not null then 'individual_contributor' end) as seniority
    from persons
    left join title_matches on title_matches.person_id = persons.person_id and title_matches.match_rank = 1
),

profiles as (
    select
        persons.person_id,
        persons.account_id,
        persons.employee_count,
        persons.industry,
        coalesce(account_territories.territory, contact_territories.territory) as territory,
        seniorities.seniority,
        persons.lead_known_at,
        persons.account_known_at,
        persons.title_known_at
    from persons
    left join territories as account_territories on account_territories.country = persons.account_country
    left join territories as contact_territories on contact_territories.country = persons.contact_country
    left join seniorities on seniorities.person_id = persons.person_id
),

unknown_points as (
    -- what an unknown field is worth: 0 with the seed; the calibrated table may price it (match_value '(unknown)'),
    -- as a model fitted on history learns what not knowing a field says about a person
    select
        max(case when dimension = 'employees' then points end) as employees_points,
        max(case when dimension = 'industry' then points end) as industry_points,
        max(case when dimension = 'territory' then points end) as territory_points,
        max(case when dimension = 'seniority' then points end) as seniority_points
    from icp_rules
    where match_value = '(unknown)'
),

known_points as (
    select
        profiles.person_id,
        max(icp_rules.points) filter (where icp_rules.dimension = 'employees') as employees_points,
        max(icp_rules.points) filter (where icp_rules.dimension = 'industry') as industry_points,
        max(icp_rules.points) filter (where icp_rules.dimension = 'territory') as territory_points,
        max(icp_rules.points) filter (where icp_rules.dimension = 'seniority') as seniority_points
    from profiles
    left join icp_rules
        on (icp_rules.dimension = 'employees'
            and profiles.employee_count >= icp_rules.min_value
            and (icp_rules.max_value is null or profiles.employee_count <= icp_rules.max_value))
        or (icp_rules.dimension = 'industry' and icp_rules.match_value = profiles.industry)
        or (icp_rules.dimension = 'territory' and icp_rules.match_value = profiles.territory)
        or (icp_rules.dimension = 'seniority' and icp_rules.match_value = profiles.seniority)
    where coalesce(icp_rules.match_value, '') <> '(unknown)'
    group by profiles.person_id
),

final as (
    -- the *_points columns are the known levels' (null when unknown: routing asks whether knowing would matter);
    -- fit_score also counts what the unknown ones are worth
    select
        profiles.*,
        coalesce(known_points.employees_points, unknown_points.employees_points, 0)
            + coalesce(known_points.industry_points, unknown_points.industry_points, 0)
            + coalesce(known_points.territory_points, unknown_points.territory_points, 0)
            + coalesce(known_points.seniority_points, unknown_points.seniority_points, 0) as fit_score,
        known_points.employees_points,
        known_points.industry_points,
        known_points.territory_points,
        known_points.seniority_points,
        nullif(concat_ws(', ',
            case when profiles.employee_count is null then 'employees' end,
            case when profiles.industry is null then 'industry' end,
            case when profiles.territory is null then 'territory' end,
            case when profiles.seniority is null then 'title' end), '') as unknown_fit_fields
    from profiles
    inner join known_points on known_points.person_id = profiles.person_id
    cross join unknown_points
)

select * from final
