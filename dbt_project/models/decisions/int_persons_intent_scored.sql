{#- Intent (0-intent_cap) per person as of int_as_of_dated (docs/decisions.md): the sum over their signals, and their
    current account's account-level signals, of weight × 0.5^(age_days / half_life_days) from seeds/signal_weights;
    signals after as_of are ignored. Also the top three reasons as evidence text ("pricing page viewed ×3 in 7
    days"). Grain: person_id (persons without a signal have none). -#}
with

signals as (
    select * from {{ ref('fct_signals') }}
),

persons as (
    select * from {{ ref('dim_person') }}
),

signal_weights as (
    select * from {{ scoring_weights('signal_weights') }}
),

as_of as (
    select * from {{ ref('int_as_of_dated') }}
),

person_signals as (
    select signals.person_id, signals.signal_type, signals.signal_at, signals.evidence
    from signals
    where signals.person_id is not null
    union all
    -- account-level (firmographic) signals count for everyone currently at the account
    select persons.person_id, signals.signal_type, signals.signal_at, signals.evidence
    from signals
    inner join persons on persons.account_id = signals.account_id
    where signals.person_id is null
),

decayed as (
    select
        person_signals.person_id,
        person_signals.signal_type,
        signal_weights.label,
        person_signals.signal_at,
        person_signals.evidence,
        {{ seconds_between('person_signals.signal_at', 'as_of.as_of') }} / 86400.0 as age_days,
        signal_weights.weight * power(0.5, {{ seconds_between('person_signals.signal_at', 'as_of.as_of') }}
                                           / 86400.0 / signal_weights.half_life_days) as points
    from person_signals
    inner join signal_weights on signal_weights.signal_type = person_signals.signal_type
    cross join as_of
    where person_signals.signal_at <= as_of.as_of
),

by_type as (
    select
        person_id,
        signal_type,
        min(label) as label,
        {{ exact_sum('points') }} as points,
        count(*) as signal_count,
        sum(case when age_days <= 7 then 1 else 0 end) as count_7d,
        min(age_days) as latest_age_days,
        max(evidence) as example_evidence
    from decayed
    group by person_id, signal_type
),

reasons as (
    select
        by_type.*,
        by_type.label
            || case when by_type.count_7d > 1 then ' ×' || cast(by_type.count_7d as {{ dbt.type_string() }}) || ' in 7 days'
                    when by_type.count_7d = 1 then ' in the last 7 days'
                    when by_type.latest_age_days < 1 then ' today'
                    else ' ' || cast(cast(floor(by_type.latest_age_days) as integer) as {{ dbt.type_string() }}) || ' days ago' end
            as reason,
        row_number() over (partition by by_type.person_id order by by_type.points desc, by_type.signal_type nulls last)
            as reason_rank
    from by_type
),

final as (
    select
        person_id,
        least({{ var('intent_cap') }}, {{ exact_sum('points') }}) as intent_score,
        {{ exact_sum('points') }} as intent_points_uncapped,
        cast(sum(signal_count) as bigint) as signal_count,
        min(latest_age_days) as days_since_last_signal,
        max(case when reason_rank = 1 then reason end) as reason_1,
        max(case when reason_rank = 2 then reason end) as reason_2,
        max(case when reason_rank = 3 then reason end) as reason_3
    from reasons
    group by person_id
)

select * from final
