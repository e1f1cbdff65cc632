{#- Follow-ups owed (docs/kpis.md, grain: trigger_id): every sales-email reply (repliedAt) and every meeting once held
    (its hs_timestamp), with the SLA of the person's grade (seeds/sla_tiers), the next sales touch after it and
    whether the follow-up was missed (no sales touch within the SLA). A trigger whose SLA has not run out by
    as_of is pending, not missed. -#}
with

mailings as (
    select * from {{ ref('int_mailings_resolved') }}
),

engagements as (
    select * from {{ ref('int_engagements_resolved') }}
),

touches as (
    select * from {{ ref('fct_touches') }}
    where is_sales_touch
),

scores as (
    select * from {{ ref('fct_lead_scores') }}
),

sla_tiers as (
    select * from {{ ref('sla_tiers') }}
),

as_of as (
    select * from {{ ref('int_as_of_dated') }}
),

triggers as (
    select
        'reply:' || cast(mailings.mailing_id as {{ dbt.type_string() }}) as trigger_id,
        'reply' as trigger,
        mailings.replied_at as triggered_at,
        mailings.person_id,
        cast(mailings.owner_id as {{ dbt.type_string() }}) as owner_id
    from mailings
    where mailings.replied_at is not null
    union all
    select 'meeting:' || engagement_id, 'meeting', min(occurred_at), min(person_id), min(owner_id)
    from engagements
    where engagement_type = 'meeting' and occurred_at is not null
    group by engagement_id
),

next_touches as (
    select trigger_id, touched_at
    from (
        select
            triggers.trigger_id,
            touches.touched_at,
            row_number() over (partition by triggers.trigger_id order by touches.touched_at nulls last, touches.touch_id nulls last) as pick
        from triggers
        inner join touches on touches.person_id = triggers.person_id and touches.touched_at > triggers.triggered_at
    ) as ranked
    where pick = 1
),

final as (
    select
        triggers.trigger_id,
        triggers.trigger,
        triggers.triggered_at,
        triggers.person_id,
        triggers.owner_id,
        coalesce(scores.grade, 'D') as grade,
        sla_tiers.sla_hours,
        next_touches.touched_at as next_sales_touch_at,
        {{ seconds_between('triggers.triggered_at', 'next_touches.touched_at') }} / 3600.0 as response_hours,
        case
            when triggers.triggered_at > as_of.as_of then 'future'
            when next_touches.touched_at is not null
                and next_touches.touched_at <= {{ dbt.dateadd('hour', 'sla_tiers.sla_hours', 'triggers.triggered_at') }}
                then 'met'
            when {{ dbt.dateadd('hour', 'sla_tiers.sla_hours', 'triggers.triggered_at') }} > as_of.as_of then 'pending'
            else 'missed'
        end as sla_status
    from triggers
    left join scores on scores.person_id = triggers.person_id
    inner join sla_tiers on sla_tiers.trigger = triggers.trigger and sla_tiers.grade = coalesce(scores.grade, 'D')
    left join next_touches on next_touches.trigger_id = triggers.trigger_id
    cross join as_of
)

select * from final
