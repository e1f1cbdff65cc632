{#- Signal-to-revenue attribution (docs/kpis.md), grain: deal_id, attribution_model, signal_id (signal_id null for a
    won deal with no signal: one 'unattributed' row per model, never dropped). For each closed-won deal, the
    signals of its account (account-level ones and those of people at the account when they happened) in
    [createdate - attribution_lookback_days, createdate), ordered by (time, signal id), are weighted by five
    models that each sum to 1 per deal: first_touch, last_touch, linear, time_decay (0.5^(days before createdate
    / attribution_half_life_days), normalized) and position_based (1; 0.5 + 0.5; ends attribution_position_end_weight
    each and the rest sharing the remainder). attributed_revenue = amount × weight. The deal's createdate (the
    anchor of the window) and closedate ride along, so a reader can check the window and date the revenue. -#}
with

deals as (
    select * from {{ ref('stg_hubspot__deals') }}
    where deal_stage = 'closedwon' and not is_archived
),

deal_parties as (
    select * from {{ ref('int_deals_resolved') }}
),

signals as (
    select * from {{ ref('fct_signals') }}
),

deal_accounts as (
    -- the deal's CRM company, else the current account of a person on the deal
    select deal_id, account_id
    from (
        select
            deals.deal_id,
            deal_parties.account_id,
            row_number() over (partition by deals.deal_id
                               order by coalesce(deal_parties.party_object = 'companies'
                                                 and deal_parties.account_id is not null, false) desc,
                                        deal_parties.account_id is null nulls last, deal_parties.account_id nulls last) as pick
        from deals
        left join deal_parties on deal_parties.deal_id = deals.deal_id
    ) as candidates
    where pick = 1
),

deal_signals as (
    select
        deals.deal_id,
        deals.amount,
        deals.created_at as deal_created_at,
        deals.close_date,
        signals.signal_id,
        signals.signal_type,
        signals.signal_at,
        {{ seconds_between('signals.signal_at', 'deals.created_at') }} / 86400.0 as days_before_deal,
        row_number() over (partition by deals.deal_id order by signals.signal_at nulls last, signals.signal_id nulls last) as position,
        count(*) over (partition by deals.deal_id) as signal_count
    from deals
    inner join deal_accounts on deal_accounts.deal_id = deals.deal_id
    inner join signals
        on signals.account_id = deal_accounts.account_id
        and signals.signal_at < deals.created_at
        and signals.signal_at >= {{ dbt.dateadd('day', -1 * var('attribution_lookback_days'), 'deals.created_at') }}
),

decay as (
    select
        deal_signals.*,
        power(0.5, days_before_deal / {{ var('attribution_half_life_days') }})
            / sum(power(0.5, days_before_deal / {{ var('attribution_half_life_days') }}))
                over (partition by deal_id) as time_decay_weight
    from deal_signals
),

models as (
    select 'first_touch' as attribution_model
    union all select 'last_touch'
    union all select 'linear'
    union all select 'time_decay'
    union all select 'position_based'
),

weighted as (
    select
        decay.deal_id,
        models.attribution_model,
        decay.signal_id,
        decay.signal_type,
        decay.signal_at,
        decay.amount,
        decay.deal_created_at,
        decay.close_date,
        case models.attribution_model
            when 'first_touch' then case when decay.position = 1 then 1.0 else 0.0 end
            when 'last_touch' then case when decay.position = decay.signal_count then 1.0 else 0.0 end
            when 'linear' then cast(1 as double) / decay.signal_count
            when 'time_decay' then decay.time_decay_weight
            when 'position_based' then case
                when decay.signal_count = 1 then 1.0
                when decay.signal_count = 2 then 0.5
                when decay.position in (1, decay.signal_count) then {{ var('attribution_position_end_weight') }}
                -- the share left is exact (a decimal) before it is divided, as a double
                else cast(1.0 - 2 * {{ var('attribution_position_end_weight') }} as double) / (decay.signal_count - 2)
            end
        end as weight
    from decay
    cross join models
),

unattributed as (
    select
        deals.deal_id,
        models.attribution_model,
        cast(null as {{ dbt.type_string() }}) as signal_id,
        'unattributed' as signal_type,
        cast(null as timestamp) as signal_at,
        deals.amount,
        deals.created_at as deal_created_at,
        deals.close_date,
        1.0 as weight
    from deals
    cross join models
    where not exists (select 1 from deal_signals where deal_signals.deal_id = deals.deal_id)
),

final as (
    select
        deal_id,
        attribution_model,
        signal_id,
        signal_type,
        signal_at,
        deal_created_at,
        close_date,
        amount as deal_amount,
        weight,
        amount * weight as attributed_revenue
    from weighted
    union all
    select deal_id, attribution_model, signal_id, signal_type, signal_at, deal_created_at, close_date, amount, weight,
           amount * weight
    from unattributed
)

select * from final
