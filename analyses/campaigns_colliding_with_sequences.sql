{#-
    Which marketing campaigns collide with sales sequences?

    One row per (marketing emitter, sales emitter) pair of the marketing×sales double touches of docs/kpis.md:
    a person got a touch from one and, within double_touch_window_hours, a touch from the other. Ordered by
    incidents, so the top rows are the campaign/sequence pairs to coordinate first (exclude the sequence's
    enrolled people from the campaign, or hold the campaign while a sequence runs).

    How to read it:
    - An incident is the later touch t2, paired with the latest earlier touch t1 of another emitter (the pair
      fct_double_touches records). Only pairs where one side is marketing and the other sales are here;
      sales×sales and marketing×marketing collisions are other questions (see mart_double_touch_rates).
    - marketing_first / sales_first: which side came first. Many marketing_first incidents mean reps start
      sequences on people a campaign just mailed; many sales_first ones mean the campaign list ignores who
      is in a sequence.
    - sales_emitter is 'sales:<sequence id>' for a sequence email or 'sales:call:<owner id>' for a rep's
      outbound call (set include_calls to false to keep sequences only).
    - persons_affected counts distinct people; median_gap_minutes is the typical time between the two
      touches (smaller = more visibly uncoordinated to the recipient).
-#}

{#- Parameters: tweak here, or override on the command line with --vars '{lookback_days: 14}' -#}
{#- Incidents in the last N days up to the latest incident in the mart (the data's "now"); none: all. -#}
{%- set lookback_days = var('lookback_days', none) -%}
{#- false: only sales sequences (emails), not reps' calls. -#}
{%- set include_calls = var('include_calls', true) -%}
{#- Hide the long tail of pairs with fewer incidents than this. -#}
{%- set min_incidents = var('min_incidents', 1) -%}

with

double_touches as (
    select * from {{ ref('fct_double_touches') }}
),

latest as (
    select max(touched_at) as latest_incident_at from double_touches
),

marketing_sales as (
    -- put each incident's two emitters in (marketing, sales) order, whichever touched first
    select
        double_touches.touch_id,
        double_touches.person_id,
        double_touches.touched_at,
        double_touches.gap_minutes,
        case when double_touches.emitter like 'marketing:%' then double_touches.emitter
             else double_touches.earlier_emitter end as marketing_emitter,
        case when double_touches.emitter like 'marketing:%' then double_touches.earlier_emitter
             else double_touches.emitter end as sales_emitter,
        double_touches.earlier_emitter like 'marketing:%' as is_marketing_first
    from double_touches
    cross join latest
    where double_touches.pair_kind = 'marketing×sales'
    {%- if lookback_days is not none %}
        and double_touches.touched_at >= latest.latest_incident_at - interval ({{ lookback_days }}) day
    {%- endif %}
    {%- if not include_calls %}
        and not (double_touches.emitter like 'sales:call:%' or double_touches.earlier_emitter like 'sales:call:%')
    {%- endif %}
),

pairs as (
    select
        marketing_emitter,
        sales_emitter,
        count(*) as incidents,
        count(distinct person_id) as persons_affected,
        count(*) filter (where is_marketing_first) as marketing_first,
        count(*) filter (where not is_marketing_first) as sales_first,
        median(gap_minutes) as median_gap_minutes,
        min(touched_at) as first_incident_at,
        max(touched_at) as last_incident_at,
        -- the pair's share of all marketing×sales incidents in scope (before min_incidents hides any)
        count(*) / sum(count(*)) over () as share_of_incidents
    from marketing_sales
    group by marketing_emitter, sales_emitter
),

final as (
    select
        marketing_emitter,
        sales_emitter,
        case when sales_emitter like 'sales:call:%' then 'call' else 'sequence' end as sales_emitter_kind,
        incidents,
        persons_affected,
        marketing_first,
        sales_first,
        round(median_gap_minutes, 1) as median_gap_minutes,
        round(share_of_incidents, 4) as share_of_incidents,
        first_incident_at,
        last_incident_at
    from pairs
    where incidents >= {{ min_incidents }}
)

select * from final
order by incidents desc, persons_affected desc, marketing_emitter, sales_emitter
