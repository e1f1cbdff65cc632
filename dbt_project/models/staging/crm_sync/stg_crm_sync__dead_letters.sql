with

source as (
    select * from {{ source_or_empty('crm_sync', 'dead_letters', {
        'object': dbt.type_string(), 'sync_key': dbt.type_string(), 'payload': type_json(), 'payload_hash': dbt.type_string(), 'error': dbt.type_string(),
        'attempts': dbt.type_int(), 'first_failed_at': type_timestamp_tz(), 'last_failed_at': type_timestamp_tz(),
        'resolved_at': type_timestamp_tz()}) }} as dead_letters
),

final as (
    select
        object as crm_object,
        sync_key,
        cast(payload as {{ dbt.type_string() }}) as payload,
        payload_hash,
        error,
        attempts,
        first_failed_at,
        last_failed_at,
        resolved_at
    from source
)

select * from final
