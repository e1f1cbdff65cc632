with

source as (
    select * from {{ source('crm_sync', 'runs') }}
),

final as (
    select
        run_id,
        started_at,
        finished_at,
        status,
        dry_run,
        forced,
        message,
        planned_creates,
        planned_updates,
        unchanged,
        rejected,
        sent,
        succeeded,
        failed,
        dead_lettered,
        requests,
        retries
    from source
)

select * from final
