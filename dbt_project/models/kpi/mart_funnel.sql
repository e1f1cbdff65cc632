{#- The funnel (docs/kpis.md, grain: stage): of the people with a CRM contact, how many reached each stage — lead,
    MQL, SQL (the contact's lifecycle stage or a later one), opportunity (a deal on the contact or the stage),
    won (a closed-won deal or customer) — the conversion from the previous stage, and the median days from the
    previous stage where the CRM dates it (contact created -> first deal created -> won deal's close date). -#}
with

contacts as (
    select * from {{ ref('int_contacts_resolved') }}
),

deal_parties as (
    select * from {{ ref('int_deals_resolved') }}
),

person_stages as (
    -- over the person's CRM contacts: the first created, the furthest lifecycle stage
    select
        person_id,
        min(created_at) as lead_at,
        max(case lifecycle_stage
                when 'customer' then 5 when 'opportunity' then 4 when 'salesqualifiedlead' then 3
                when 'marketingqualifiedlead' then 2 else 1 end) as stage_rank
    from contacts
    group by person_id
),

person_deals as (
    -- deals on one of the person's contacts
    select
        person_id,
        min(created_at) as first_deal_at,
        min(case when deal_stage = 'closedwon' then close_date end) as first_won_at
    from deal_parties
    where party_object = 'contacts' and person_id is not null
    group by person_id
),

reached as (
    select
        person_stages.person_id,
        person_stages.lead_at,
        person_deals.first_deal_at,
        person_deals.first_won_at,
        person_stages.stage_rank >= 2 or person_deals.first_deal_at is not null as reached_mql,
        person_stages.stage_rank >= 3 or person_deals.first_deal_at is not null as reached_sql,
        person_stages.stage_rank >= 4 or person_deals.first_deal_at is not null as reached_opportunity,
        person_stages.stage_rank >= 5 or person_deals.first_won_at is not null as reached_won
    from person_stages
    left join person_deals on person_deals.person_id = person_stages.person_id
),

stages as (
    select 1 as stage_order, 'lead' as stage, count(*) as persons_reached, cast(null as double) as median_days_from_previous
    from reached
    union all
    select 2, 'mql', sum(case when reached_mql then 1 else 0 end), cast(null as double) from reached
    union all
    select 3, 'sql', sum(case when reached_sql then 1 else 0 end), cast(null as double) from reached
    union all
    select 4, 'opportunity', sum(case when reached_opportunity then 1 else 0 end),
           {{ percentile(seconds_between('lead_at', 'first_deal_at') ~ ' / 86400.0', 0.5) }}
    from reached
    union all
    select 5, 'won', sum(case when reached_won then 1 else 0 end),
           {{ percentile(seconds_between('first_deal_at', 'first_won_at') ~ ' / 86400.0', 0.5) }}
    from reached
),

final as (
    select
        stage_order,
        stage,
        cast(persons_reached as bigint) as persons_reached,
        cast(persons_reached as double) / nullif(lag(persons_reached) over (order by stage_order nulls last), 0)
            as conversion_from_previous,
        median_days_from_previous
    from stages
)

select * from final
