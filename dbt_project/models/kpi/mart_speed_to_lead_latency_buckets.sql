{#- The latency distribution of speed-to-lead (grain: request_week, owner_id, request_type, segment,
    latency_bucket): counted requests per bucket of fct_speed_to_lead (answered within each step of
    macros/kpi_speed_to_lead.sql, then missed, then open), per ISO week of the request and slice. Counts add up:
    a reader sums the weeks and slices it selects (the dashboard's distribution chart). -#}
with

speed as (
    select * from {{ ref('fct_speed_to_lead') }}
),

final as (
    select
        request_week,
        owner_id,
        request_type,
        segment,
        latency_bucket,
        latency_bucket_order,
        cast(count(*) as bigint) as requests
    from speed
    group by request_week, owner_id, request_type, segment, latency_bucket, latency_bucket_order
)

select * from final
