{#- The account score as of int_as_of_dated (grain: account_id), docs/decisions.md's "best persons + account signals":
    account fit (employees, industry, territory points rescaled to 0-50 by their maxima in the ICP rules) + account
    intent (the decayed weights of every signal of the account, its people's and its own, capped at intent_cap);
    beside it the best person's lead score and who that is, and the account's three strongest signal types. -#}
with

accounts as (
    select * from {{ ref('dim_account') }}
),

signals as (
    select * from {{ ref('fct_signals') }}
),

scores as (
    select * from {{ ref('fct_lead_scores') }}
),

icp_rules as (
    select * from {{ scoring_weights('icp_rules') }}
),

signal_weights as (
    select * from {{ scoring_weights('signal_weights') }}
),

territories as (
    select * from {{ ref('territories') }}
),

as_of as (
    select * from {{ ref('int_as_of_dated') }}
),

account_fit_max as (
    select sum(max_points) as max_points
    from (select dimension, max(points) as max_points from icp_rules
          where dimension in ('employees', 'industry', 'territory') and coalesce(match_value, '') <> '(unknown)'
          group by dimension) as by_dimension
),

account_fit as (
    select
        accounts.account_id,
        coalesce(max(icp_rules.points) filter (where icp_rules.dimension = 'employees'), 0)
            + coalesce(max(icp_rules.points) filter (where icp_rules.dimension = 'industry'), 0)
            + coalesce(max(icp_rules.points) filter (where icp_rules.dimension = 'territory'), 0) as fit_points
    from accounts
    left join territories on territories.country = accounts.country
    left join icp_rules
        on (icp_rules.dimension = 'employees' and accounts.employee_count >= icp_rules.min_value
            and (icp_rules.max_value is null or accounts.employee_count <= icp_rules.max_value))
        or (icp_rules.dimension = 'industry' and icp_rules.match_value = accounts.industry)
        or (icp_rules.dimension = 'territory' and icp_rules.match_value = territories.territory)
    group by accounts.account_id
),

signal_points as (
    select
        signals.account_id,
        signals.signal_type,
        min(signal_weights.label) as label,
        count(*) as signal_count,
        {{ exact_sum("signal_weights.weight * power(0.5, " ~ seconds_between('signals.signal_at', 'as_of.as_of')
                     ~ " / 86400.0 / signal_weights.half_life_days)") }} as points
    from signals
    inner join signal_weights on signal_weights.signal_type = signals.signal_type
    cross join as_of
    where signals.account_id is not null and signals.signal_at <= as_of.as_of
    group by signals.account_id, signals.signal_type
),

account_intent as (
    select
        account_id,
        least({{ var('intent_cap') }}, {{ exact_sum('points') }}) as intent_points,
        -- a type worth no points counts as a signal but is no reason, as for persons (int_persons_intent_scored)
        cast(sum(signal_count) as bigint) as signal_count,
        max(case when type_rank = 1 and points > 0 then label || ' ×' || cast(signal_count as {{ dbt.type_string() }}) end) as reason_1,
        max(case when type_rank = 2 and points > 0 then label || ' ×' || cast(signal_count as {{ dbt.type_string() }}) end) as reason_2,
        max(case when type_rank = 3 and points > 0 then label || ' ×' || cast(signal_count as {{ dbt.type_string() }}) end) as reason_3
    from (
        select signal_points.*,
               row_number() over (partition by account_id order by points desc, signal_type nulls last) as type_rank
        from signal_points
    ) as ranked
    group by account_id
),

best_persons as (
    select account_id, person_id, lead_score, count_at_account
    from (
        select
            account_id,
            person_id,
            lead_score,
            count(*) over (partition by account_id) as count_at_account,
            row_number() over (partition by account_id order by lead_score desc, person_id nulls last) as person_rank
        from scores
        where account_id is not null
    ) as ranked
    where person_rank = 1
),

scored as (
    select
        accounts.account_id,
        accounts.account_domain,
        as_of.as_of,
        round(account_fit.fit_points * 50.0 / nullif(account_fit_max.max_points, 0), 1) as account_fit_score,
        round(coalesce(account_intent.intent_points, 0), 1) as account_intent_score,
        coalesce(account_intent.signal_count, 0) as signal_count,
        best_persons.person_id as best_person_id,
        best_persons.lead_score as best_person_lead_score,
        coalesce(best_persons.count_at_account, 0) as scored_persons,
        nullif(concat_ws('; ', account_intent.reason_1, account_intent.reason_2, account_intent.reason_3), '')
            as top_reasons
    from accounts
    inner join account_fit on account_fit.account_id = accounts.account_id
    cross join account_fit_max
    cross join as_of
    left join account_intent on account_intent.account_id = accounts.account_id
    left join best_persons on best_persons.account_id = accounts.account_id
),

final as (
    -- the score is the sum of the two parts as shown (rounding the unrounded sum made 8.3 + 1.0 read 9.4)
    select
        account_id,
        account_domain,
        as_of,
        account_fit_score,
        account_intent_score,
        least(100, round(account_fit_score + account_intent_score, 1)) as account_score,  -- round: 8.3 + 1.0 in doubles
        signal_count,
        best_person_id,
        best_person_lead_score,
        scored_persons,
        top_reasons
    from scored
)

select * from final
