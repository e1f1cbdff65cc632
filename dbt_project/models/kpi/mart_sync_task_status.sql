{#- The CRM tasks the sync made, by owner and state (docs/sync.md, Tasks; grain: owner_id, task_state): open (the
    warehouse still wants it), completed (by the sync: the next action moved on), handed_over (a rep completed,
    edited or deleted it: left alone). A view over the sync's state: current after every sync. -#}
with

tasks as (
    select * from {{ ref('stg_crm_sync__tasks') }}
),

final as (
    select
        coalesce(owner_id, '{{ var("fallback_owner_queue") }}') as owner_id,
        task_state,
        count(*) as tasks,
        count(*) filter (where task_priority = 'HIGH') as high_priority_tasks,
        min(due_at) as earliest_due_at
    from tasks
    group by coalesce(owner_id, '{{ var("fallback_owner_queue") }}'), task_state
)

select * from final
