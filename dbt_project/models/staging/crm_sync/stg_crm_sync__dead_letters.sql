with

source as (
    select * from {{ source_or_empty('crm_sync', 'dead_letters', {
        'object': 'varchar', 'sync_key': 'varchar', 'payload': 'json', 'payload_hash': 'varchar', 'error': 'varchar',
        'attempts': 'integer', 'first_failed_at': 'timestamptz', 'last_failed_at': 'timestamptz',
        'resolved_at': 'timestamptz'}) }} as dead_letters
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
