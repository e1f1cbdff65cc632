{#- Intent (0-intent_cap) per person as of int_as_of_dated (docs/decisions.md): the sum over their signal types of
    weight × the decayed count at cut-off 0 (int_signal_features_dated: their signals and their current account's
    account-level signals, each 0.5^(age_days / half_life_days), none after as_of), weights from seeds/signal_weights
    or the calibrated table. The reasons are the signal types ranked by that contribution (weight × decayed count,
    the points each adds; a type worth 0 points is no reason), told as evidence text ("pricing page viewed ×3 in 7
    days"). Grain: person_id (persons without a signal have none). -#}
with

features as (
    select * from {{ ref('int_signal_features_dated') }}
    where cutoff_days_before_as_of = 0
),

signal_weights as (
    select * from {{ scoring_weights('signal_weights') }}
),

by_type as (
    select
        features.person_id,
        features.signal_type,
        signal_weights.label,
        signal_weights.weight * features.decayed_count as points,
        features.signal_count,
        features.count_7d,
        features.latest_age_days
    from features
    inner join signal_weights on signal_weights.signal_type = features.signal_type
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
        row_number() over (partition by by_type.person_id
                           order by case when by_type.points > 0 then 0 else 1 end, by_type.points desc,
                                    by_type.signal_type nulls last)
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
        max(case when reason_rank = 1 and points > 0 then reason end) as reason_1,
        max(case when reason_rank = 2 and points > 0 then reason end) as reason_2,
        max(case when reason_rank = 3 and points > 0 then reason end) as reason_3
    from reasons
    group by person_id
)

select * from final
