{#- One row per owner (grain: owner_id): the CRM users who own contacts, companies, touches and next actions, and
    the fallback queue (var fallback_owner_queue) that owns what no person does, so every owner_id of the marts
    finds a name here. -#}
with

owners as (
    select * from {{ ref('stg_hubspot__owners') }}
),

crm_owners as (
    select
        owner_id,
        trim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')) as owner_name,
        owner_email,
        primary_team as team,
        false as is_queue
    from owners
),

queue as (
    select
        '{{ var("fallback_owner_queue") }}' as owner_id,
        'Unassigned queue ({{ var("fallback_owner_queue") }})' as owner_name,
        cast(null as {{ dbt.type_string() }}) as owner_email,
        cast(null as {{ dbt.type_string() }}) as team,
        true as is_queue
),

final as (
    select
        owner_id,
        coalesce(nullif(owner_name, ''), owner_email, owner_id) as owner_name,
        owner_email,
        team,
        is_queue
    from crm_owners
    union all
    select * from queue
)

select * from final
