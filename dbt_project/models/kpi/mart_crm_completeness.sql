{#- CRM completeness (docs/kpis.md, grain: measured_as): of the open person records (a person with a live CRM contact
    who is not a customer), the share with an owner, a stage, a last action, a next action and a next-action date —
    as extracted from the CRM (the contact's owner and lifecycle stage, the revops_* properties written back), and
    as they will be after the reverse ETL writes the stage map (a CRM owner, not the fallback queue). -#}
with

persons as (
    select * from {{ ref('dim_person') }}
),

contacts as (
    select * from {{ ref('stg_hubspot__contacts') }}
),

stage_map as (
    select * from {{ ref('mart_stage_map') }}
),

open_records as (
    select persons.person_id, contacts.*
    from persons
    inner join contacts on contacts.contact_id = persons.primary_crm_contact_id
    inner join stage_map on stage_map.person_id = persons.person_id
    where stage_map.stage <> 'customer'
),

measured as (
    select
        'as_extracted' as measured_as,
        open_records.person_id,
        open_records.owner_id is not null as has_owner,
        coalesce(open_records.revops_stage, open_records.lifecycle_stage) is not null as has_stage,
        open_records.revops_last_action is not null as has_last_action,
        open_records.revops_next_action is not null as has_next_action,
        open_records.revops_next_action_date is not null as has_next_action_date
    from open_records
    union all
    select
        'after_writeback',
        open_records.person_id,
        stage_map.owner_id <> '{{ var("fallback_owner_queue") }}',
        stage_map.stage is not null,
        stage_map.last_action is not null and stage_map.last_action <> 'none yet',
        stage_map.next_action is not null,
        stage_map.next_action_date is not null
    from open_records
    inner join stage_map on stage_map.person_id = open_records.person_id
),

final as (
    select
        measured_as,
        count(*) as open_records,
        avg(case when has_owner then cast(1 as double) else 0 end) as with_owner_share,
        avg(case when has_stage then cast(1 as double) else 0 end) as with_stage_share,
        avg(case when has_last_action then cast(1 as double) else 0 end) as with_last_action_share,
        avg(case when has_next_action then cast(1 as double) else 0 end) as with_next_action_share,
        avg(case when has_next_action_date then cast(1 as double) else 0 end) as with_next_action_date_share,
        avg(case when has_owner and has_stage and has_last_action and has_next_action and has_next_action_date
                 then cast(1 as double) else 0 end) as complete_share
    from measured
    group by measured_as
)

select * from final
