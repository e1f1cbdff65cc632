{#-
    Which signals precede won deals?

    One row per signal type (plus one 'unattributed' row): how many closed-won deals a signal of that type
    preceded, how many such signals there were, how long before the close they happened, and the revenue each
    of the five attribution models of docs/kpis.md gives that type, side by side.

    How to read it:
    - The five *_revenue columns each add up, over all rows, to the won revenue in scope: every won deal's
      amount is split over its signals (in the attribution_lookback_days before the deal was created), and a
      won deal no signal preceded puts its whole amount on the 'unattributed' row under every model. That row
      is never dropped: a large one means revenue the signals do not explain (missing tracking, offline deals).
    - A type that is high under first_touch but low under last_touch opens conversations (e.g. a pricing page
      view); the reverse closes them (e.g. meeting booked). linear and position_based sit in between;
      time_decay favours what happened just before the deal was created.
    - won_deals_touched counts deals, not revenue: a type on many small deals can rank below one on a few big
      ones. On the 'unattributed' row it is the number of won deals with no signal.
    - Timing: fct_signal_attribution carries each deal's close date but not its create date (the date the
      lookback window is anchored on), so the timing columns measure days from the signal to the deal's
      CLOSE; the days before creation are these minus the deal's sales cycle.
    - A signal that preceded two won deals (same account) counts once in `signals` and once per deal in the
      timing columns.
-#}

{#- Parameters: tweak here, or override on the command line with --vars '{lookback_days: 90}' -#}
{#- Won deals closed in the last N days up to the latest close date in the mart (the data's "now", not the
    wall clock); none: every won deal. -#}
{%- set lookback_days = var('lookback_days', none) -%}
{#- The model the rows are ordered by (the 'unattributed' row always comes last). -#}
{%- set order_by_model = var('order_by_model', 'linear') -%}
{%- set attribution_models = ['first_touch', 'last_touch', 'linear', 'time_decay', 'position_based'] -%}

with

attribution as (
    select * from {{ ref('fct_signal_attribution') }}
),

latest as (
    select max(close_date) as latest_close_date from attribution
),

in_scope as (
    select attribution.*
    from attribution
    cross join latest
    {%- if lookback_days is not none %}
    where attribution.close_date >= latest.latest_close_date - interval ({{ lookback_days }}) day
    {%- endif %}
),

deal_signals as (
    -- one row per (deal, signal): the mart repeats each pair once per attribution model
    select distinct
        deal_id,
        signal_id,
        signal_type,
        date_diff('second', signal_at, close_date) / 86400.0 as days_before_close
    from in_scope
    where signal_id is not null
),

timing as (
    select
        signal_type,
        count(distinct signal_id) as signals,
        avg(days_before_close) as avg_days_before_close,
        median(days_before_close) as median_days_before_close
    from deal_signals
    group by signal_type
),

revenue as (
    select
        signal_type,
        count(distinct deal_id) as won_deals_touched,
        {%- for model in attribution_models %}
        sum(attributed_revenue) filter (where attribution_model = '{{ model }}') as {{ model }}_revenue
            {{- "," if not loop.last }}
        {%- endfor %}
    from in_scope
    group by signal_type
),

final as (
    select
        revenue.signal_type,
        revenue.won_deals_touched,
        coalesce(timing.signals, 0) as signals,
        round(timing.avg_days_before_close, 1) as avg_days_before_close,
        round(timing.median_days_before_close, 1) as median_days_before_close,
        {%- for model in attribution_models %}
        round(revenue.{{ model }}_revenue, 2) as {{ model }}_revenue,
        {%- endfor %}
        -- the type's share of the won revenue in scope under the ordering model
        round(revenue.{{ order_by_model }}_revenue / sum(revenue.{{ order_by_model }}_revenue) over (), 4)
            as {{ order_by_model }}_share
    from revenue
    left join timing on timing.signal_type = revenue.signal_type
)

select * from final
order by signal_type = 'unattributed', {{ order_by_model }}_revenue desc, signal_type
