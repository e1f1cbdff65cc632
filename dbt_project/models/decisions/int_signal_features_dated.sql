{#- The signal features of every person at each scoring cut-off (grain: person_id, cutoff_days_before_as_of,
    signal_type): per signal type, the decayed count Σ 0.5^(age_days / half_life_days) of the signals at or before
    the cut-off (half-lives from seeds/signal_weights), their number, how many fell in the 7 days before it, and the
    age of the latest. Cut-off 0 is as_of itself, the one the lead scores read; the earlier ones (var
    scoring_label_window_days before as_of, then every scoring_cutoff_step_days, scoring_history_cutoffs of them)
    are the past moments `revops calibrate scoring` learns from: a label window of 30 days after each still ends
    by as_of. Defined once here, so the features a model is trained on are the ones it scores with. -#}
with

signals as (
    select * from {{ ref('fct_signals') }}
),

persons as (
    select * from {{ ref('dim_person') }}
),

signal_weights as (
    select * from {{ ref('signal_weights') }}
),

as_of as (
    select * from {{ ref('int_as_of_dated') }}
),

{%- set offsets = [0] %}
{%- for k in range(var('scoring_history_cutoffs')) %}
    {%- do offsets.append(var('scoring_label_window_days') + k * var('scoring_cutoff_step_days')) %}
{%- endfor %}

cutoffs as (
    {%- for days in offsets %}
    select {{ days }} as cutoff_days_before_as_of, {{ dbt.dateadd('day', -days, 'as_of.as_of') }} as cutoff_at
    from as_of
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
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

aged as (
    select
        person_signals.person_id,
        cutoffs.cutoff_days_before_as_of,
        cutoffs.cutoff_at,
        person_signals.signal_type,
        person_signals.evidence,
        signal_weights.half_life_days,
        {{ seconds_between('person_signals.signal_at', 'cutoffs.cutoff_at') }} / 86400.0 as age_days
    from person_signals
    inner join signal_weights on signal_weights.signal_type = person_signals.signal_type
    cross join cutoffs
    -- the features at a cut-off never see a later signal
    where person_signals.signal_at <= cutoffs.cutoff_at
),

final as (
    select
        person_id,
        cutoff_days_before_as_of,
        min(cutoff_at) as cutoff_at,
        signal_type,
        {{ exact_sum('power(0.5, age_days / half_life_days)') }} as decayed_count,
        cast(count(*) as bigint) as signal_count,
        cast(sum(case when age_days <= 7 then 1 else 0 end) as bigint) as count_7d,
        min(age_days) as latest_age_days,
        max(evidence) as example_evidence
    from aged
    group by person_id, cutoff_days_before_as_of, signal_type
)

select * from final
