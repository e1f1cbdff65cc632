with

source as (
    select * from {{ source('crm_sync', 'dead_letters') }}
),

final as (
    select
        object as crm_object,
        sync_key,
        cast(payload as varchar) as payload,
        payload_hash,
        error,
        attempts,
        first_failed_at,
        last_failed_at,
        resolved_at
    from source
)

select * from final
