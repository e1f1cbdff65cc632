{#- Signal-to-meeting and signal-to-opportunity conversion per signal type (docs/kpis.md, grain: signal_type): the
    share of signals with an account followed by a meeting booked for the same account strictly after the signal
    and within conversion_meeting_window_days, and by a deal created for it within conversion_deal_window_days. -#}
with

signals as (
    select * from {{ ref('fct_signals') }}
    where account_id is not null
),

meetings as (
    -- a meeting booked, on the account of the person it was booked with at that time
    select signal_at as booked_at, account_id from {{ ref('fct_signals') }}
    where signal_type = 'meeting_booked' and account_id is not null
),

account_deals as (
    -- deals created for the account's CRM company
    select account_id, created_at from {{ ref('int_deals_resolved') }}
    where party_object = 'companies' and account_id is not null
),

followed as (
    select
        signals.signal_id,
        signals.signal_type,
        exists (
            select 1 from meetings
            where meetings.account_id = signals.account_id and meetings.booked_at > signals.signal_at
                and meetings.booked_at <= {{ dbt.dateadd('day', var('conversion_meeting_window_days'), 'signals.signal_at') }}
        ) as is_followed_by_meeting,
        exists (
            select 1 from account_deals
            where account_deals.account_id = signals.account_id and account_deals.created_at > signals.signal_at
                and account_deals.created_at <= {{ dbt.dateadd('day', var('conversion_deal_window_days'), 'signals.signal_at') }}
        ) as is_followed_by_deal
    from signals
),

final as (
    select
        signal_type,
        count(*) as signals,
        cast(sum(case when is_followed_by_meeting then 1 else 0 end) as bigint) as followed_by_meeting,
        avg(case when is_followed_by_meeting then 1.0 else 0.0 end) as signal_to_meeting_rate,
        cast(sum(case when is_followed_by_deal then 1 else 0 end) as bigint) as followed_by_opportunity,
        avg(case when is_followed_by_deal then 1.0 else 0.0 end) as signal_to_opportunity_rate
    from followed
    group by signal_type
)

select * from final
