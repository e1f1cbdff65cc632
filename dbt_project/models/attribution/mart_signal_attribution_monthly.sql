{#- Attributed revenue by month of the deal's close date, signal type and attribution model (grain: close_month,
    signal_type, attribution_model); 'unattributed' carries the won revenue no signal preceded. The five models
    side by side sum to the same won revenue per month. -#}
with

attribution as (
    select * from {{ ref('fct_signal_attribution') }}
),

final as (
    select
        cast({{ dbt.date_trunc('month', 'close_date') }} as date) as close_month,
        signal_type,
        attribution_model,
        count(distinct deal_id) as deals,
        count(signal_id) as signals,
        -- exact sums: a double sum's last digits depend on the order threads add in, and two builds of the same
        -- data must agree to the bit
        {{ exact_sum('weight') }} as attributed_deals,
        {{ exact_sum('attributed_revenue') }} as attributed_revenue
    from attribution
    group by cast({{ dbt.date_trunc('month', 'close_date') }} as date), signal_type, attribution_model
)

select * from final
