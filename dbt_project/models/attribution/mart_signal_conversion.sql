{#- Signal-to-meeting and signal-to-opportunity conversion per signal type (docs/kpis.md, grain: signal_type): the
    share of signals with an account followed by a meeting booked for the same account strictly after the signal
    and within conversion_meeting_window_days, and by a deal created for it within conversion_deal_window_days. -#}
with

signals as (
    select * from {{ ref('fct_signals') }}
    where account_id is not null
),

outcomes as (
    -- what may follow a signal on its account, each kind within its own window: a meeting booked (on the account of
    -- the person it was booked with at that time), a deal created for the account's CRM company
    select account_id, signal_at as outcome_at, 'meeting' as outcome_kind,
           {{ var('conversion_meeting_window_days') }} as window_days
    from {{ ref('fct_signals') }}
    where signal_type = 'meeting_booked' and account_id is not null
    union all
    select account_id, created_at as outcome_at, 'deal' as outcome_kind,
           {{ var('conversion_deal_window_days') }} as window_days
    from {{ ref('int_deals_resolved') }}
    where party_object = 'companies' and account_id is not null
),

followed as (
    select
        signals.signal_id,
        signals.signal_type,
        coalesce(max(case when outcomes.outcome_kind = 'meeting' then 1 end), 0) = 1 as is_followed_by_meeting,
        coalesce(max(case when outcomes.outcome_kind = 'deal' then 1 end), 0) = 1 as is_followed_by_deal
    from signals
    left join outcomes
        on outcomes.account_id = signals.account_id and outcomes.outcome_at > signals.signal_at
        and outcomes.outcome_at <= {{ dbt.dateadd('day', 'outcomes.window_days', 'signals.signal_at') }}
    group by signals.signal_id, signals.signal_type
),

final as (
    select
        signal_type,
        count(*) as signals,
        cast(sum(case when is_followed_by_meeting then 1 else 0 end) as bigint) as followed_by_meeting,
        avg(case when is_followed_by_meeting then cast(1 as double) else 0 end) as signal_to_meeting_rate,
        cast(sum(case when is_followed_by_deal then 1 else 0 end) as bigint) as followed_by_opportunity,
        avg(case when is_followed_by_deal then cast(1 as double) else 0 end) as signal_to_opportunity_rate
    from followed
    group by signal_type
)

select * from final
