with

source as (
    select * from {{ source_or_empty('crm_sync', 'tasks', {
        'action_key': 'varchar', 'task_id': 'varchar', 'state': 'varchar', 'payload': 'json',
        'payload_hash': 'varchar', 'updated_at': 'timestamptz', 'run_id': 'varchar'}) }} as tasks
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
