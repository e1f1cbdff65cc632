with

source as (
    select * from {{ source_or_empty('crm_sync', 'runs', {
        'run_id': dbt.type_string(), 'started_at': type_timestamp_tz(), 'finished_at': type_timestamp_tz(), 'status': dbt.type_string(),
        'dry_run': dbt.type_boolean(), 'forced': dbt.type_boolean(), 'message': dbt.type_string(), 'planned_creates': dbt.type_bigint(),
        'planned_updates': dbt.type_bigint(), 'unchanged': dbt.type_bigint(), 'rejected': dbt.type_bigint(), 'sent': dbt.type_bigint(),
        'succeeded': dbt.type_bigint(), 'failed': dbt.type_bigint(), 'dead_lettered': dbt.type_bigint(), 'requests': dbt.type_bigint(),
        'retries': dbt.type_bigint(), 'planned_completes': dbt.type_bigint(), 'handed_over': dbt.type_bigint()}) }} as runs
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
