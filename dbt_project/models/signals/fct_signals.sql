{#- Every dated signal (docs/kpis.md), one row per signal (grain: signal_id): intent (intent pages, demo requests,
    contact-sales forms), product (sign-up ... integration connected), firmographic (funding round, exec hire,
    job posting; account-level, person_id null) and engagement (sales-email replies, meetings booked). A person's
    signal carries the account the person was at when it happened. -#}
with

signals as (
    select * from {{ ref('int_signals_collected') }}
),

person_accounts as (
    select * from {{ ref('int_person_accounts_dated') }}
),

final as (
    select
        signals.signal_id,
        signals.signal_at,
        signals.signal_category,
        signals.signal_type,
        signals.person_id,
        coalesce(signals.account_id, person_accounts.account_id) as account_id,
        signals.source,
        signals.evidence
    from signals
    left join person_accounts
        on {{ person_account_at('person_accounts', 'signals.person_id', 'signals.signal_at') }}
)

select * from final
