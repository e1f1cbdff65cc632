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

meeting_followed as (
    select distinct signals.signal_id
    from signals
    inner join meetings
        on meetings.account_id = signals.account_id and meetings.booked_at > signals.signal_at
        and meetings.booked_at <= {{ dbt.dateadd('day', var('conversion_meeting_window_days'), 'signals.signal_at') }}
),

deal_followed as (
    select distinct signals.signal_id
    from signals
    inner join account_deals
        on account_deals.account_id = signals.account_id and account_deals.created_at > signals.signal_at
        and account_deals.created_at <= {{ dbt.dateadd('day', var('conversion_deal_window_days'), 'signals.signal_at') }}
),

followed as (
    -- joins rather than exists() in the select list: Spark fails to plan those correlated subqueries here
    select
        signals.signal_id,
        signals.signal_type,
        meeting_followed.signal_id is not null as is_followed_by_meeting,
        deal_followed.signal_id is not null as is_followed_by_deal
    from signals
    left join meeting_followed on meeting_followed.signal_id = signals.signal_id
    left join deal_followed on deal_followed.signal_id = signals.signal_id
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
