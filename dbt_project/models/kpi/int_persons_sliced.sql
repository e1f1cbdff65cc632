{#- The owner and segment the dashboard's filters select a person by (grain: person_id): the owner of their next
    action (mart_stage_map; 'unassigned' without one) and the segment of their current account (dim_account;
    'unknown' without one). mart_double_touch_cube and mart_double_touch_emitter_pairs both slice by it, so a
    filter selects the same persons in both. -#}
with

persons as (
    select * from {{ ref('dim_person') }}
),

stage_map as (
    select * from {{ ref('mart_stage_map') }}
),

accounts as (
    select * from {{ ref('dim_account') }}
),

final as (
    select
        persons.person_id,
        coalesce(stage_map.owner_id, 'unassigned') as owner_id,
        coalesce(accounts.segment, 'unknown') as segment
    from persons
    left join stage_map on stage_map.person_id = persons.person_id
    left join accounts on accounts.account_id = persons.account_id
)

select * from final
