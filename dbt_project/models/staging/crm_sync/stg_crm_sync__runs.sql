with

source as (
    select * from {{ source_or_empty('crm_sync', 'runs', {
        'run_id': 'varchar', 'started_at': 'timestamptz', 'finished_at': 'timestamptz', 'status': 'varchar',
        'dry_run': 'boolean', 'forced': 'boolean', 'message': 'varchar', 'planned_creates': 'bigint',
        'planned_updates': 'bigint', 'unchanged': 'bigint', 'rejected': 'bigint', 'sent': 'bigint',
        'succeeded': 'bigint', 'failed': 'bigint', 'dead_lettered': 'bigint', 'requests': 'bigint',
        'retries': 'bigint', 'planned_completes': 'bigint', 'handed_over': 'bigint'}) }} as runs
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
        planned_completes,
        unchanged,
        rejected,
        sent,
        succeeded,
        failed,
        dead_lettered,
        requests,
        retries,
        handed_over
    from source
)

select * from final
