{#- Sync health per reverse-ETL run (docs/kpis.md, grain: run_id): records planned, sent, confirmed, rejected before
    sending, dead-lettered, requests and retries, and the success rate of what was sent. A view over the sync's
    audit (source crm_sync): empty until the first sync has run. -#}
with

runs as (
    select * from {{ ref('stg_crm_sync__runs') }}
),

final as (
    select
        -- the run as the audit records it
        run_id, started_at, finished_at, status, dry_run,
        -- its counts, 0 where the audit holds none
        cast(coalesce(planned_creates, 0) + coalesce(planned_updates, 0) + coalesce(planned_completes, 0) as bigint)
            as planned_changes,
        cast(coalesce(unchanged, 0) as bigint) as unchanged,
        cast(coalesce(rejected, 0) as bigint) as rejected,
        cast(coalesce(sent, 0) as bigint) as sent,
        cast(coalesce(succeeded, 0) as bigint) as confirmed,
        cast(coalesce(dead_lettered, 0) as bigint) as dead_lettered,
        cast(coalesce(requests, 0) as bigint) as requests,
        cast(coalesce(retries, 0) as bigint) as retries,
        -- tasks a rep completed, edited or deleted by hand: the sync leaves them alone from then on
        cast(coalesce(handed_over, 0) as bigint) as tasks_handed_over,
        cast(succeeded as double) / nullif(sent, 0) as success_rate
    from runs
)

select * from final
