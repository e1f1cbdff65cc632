with

source as (
    select * from {{ source_or_empty('crm_sync', 'tasks', {
        'action_key': dbt.type_string(), 'task_id': dbt.type_string(), 'state': dbt.type_string(), 'payload': type_json(),
        'payload_hash': dbt.type_string(), 'updated_at': type_timestamp_tz(), 'run_id': dbt.type_string()}) }} as tasks
),

final as (
    select
        action_key,
        task_id,
        state as task_state,
        {{ json_text('payload', '$.hubspot_owner_id') }} as owner_id,
        {{ json_text('payload', '$.hs_task_type') }} as task_type,
        {{ json_text('payload', '$.hs_task_priority') }} as task_priority,
        {{ iso_to_utc(json_text('payload', '$.hs_timestamp')) }} as due_at,
        updated_at,
        run_id
    from source
)

select * from final
