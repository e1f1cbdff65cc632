{#- Sync health per reverse-ETL run (docs/kpis.md, grain: run_id): records planned, sent, confirmed, rejected before
    sending, dead-lettered, requests and retries, and the success rate of what was sent. Built from the audit
    tables the sync writes (schema crm_sync); empty until the first sync has run. -#}
{%- set runs = adapter.get_relation(database=target.database, schema='crm_sync', identifier='runs')
    if execute else none -%}
with

{% if runs %}
runs as (
    select * from {{ runs }}
),

final as (
    select
        run_id,
        started_at,
        finished_at,
        status,
        dry_run,
        cast(coalesce(planned_creates, 0) + coalesce(planned_updates, 0) as bigint) as planned_changes,
        cast(coalesce(unchanged, 0) as bigint) as unchanged,
        cast(coalesce(rejected, 0) as bigint) as rejected,
        cast(coalesce(sent, 0) as bigint) as sent,
        cast(coalesce(succeeded, 0) as bigint) as confirmed,
        cast(coalesce(dead_lettered, 0) as bigint) as dead_lettered,
        cast(coalesce(requests, 0) as bigint) as requests,
        cast(coalesce(retries, 0) as bigint) as retries,
        succeeded * 1.0 / nullif(sent, 0) as success_rate
    from runs
)
{% else %}
final as (
    select
        cast(null as varchar) as run_id, cast(null as timestamptz) as started_at,
        cast(null as timestamptz) as finished_at, cast(null as varchar) as status, cast(null as boolean) as dry_run,
        cast(null as bigint) as planned_changes, cast(null as bigint) as unchanged, cast(null as bigint) as rejected,
        cast(null as bigint) as sent, cast(null as bigint) as confirmed, cast(null as bigint) as dead_lettered,
        cast(null as bigint) as requests, cast(null as bigint) as retries, cast(null as double) as success_rate
    where 1 = 0
)
{% endif %}

select * from final
