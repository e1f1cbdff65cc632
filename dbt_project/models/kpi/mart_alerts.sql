{#- Every alert the warehouse raised (docs/operations.md, Alerts; grain: alert_key): a sending domain paused or
    resumed, a hand raise past its SLA, new dead letters, a failed run — when, what it said, whether it reached the
    webhook. A view: the dashboard's snapshot after each run shows the latest. -#}
with

alerts as (
    select * from {{ ref('stg_ops__alerts') }}
),

final as (
    select
        alert_key,
        alert_kind,
        created_at,
        alert_text,
        delivery_status,
        attempts,
        last_error,
        sent_at
    from alerts
)

select * from final
