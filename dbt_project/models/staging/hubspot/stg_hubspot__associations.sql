with

source as (
    select * from {{ source('hubspot', 'crm_associations') }}
),

final as (
    select distinct
        from_object,
        from_id as from_object_id,
        to_object,
        to_id as to_object_id
    from source
)

select * from final
