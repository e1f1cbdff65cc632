{#- Each owner's task actions by the working day they are due (docs/decisions.md, "Capacity"); grain: owner_id,
    due_date. Against the owner's capacity (seeds/owner_capacity): how many are due, how many are hand raises, how
    many moved there from an earlier day and how many were handed over from a full colleague. The dashboard's
    Next actions page reads it ("due today against capacity", "backlog by day"). -#}
with

scheduled as (
    select * from {{ ref('int_next_actions_scheduled') }}
),

decided as (
    select * from {{ ref('int_next_actions_decided') }}
),

owners as (
    select * from {{ ref('dim_owner') }}
),

capacity as (
    -- the capacity and "today" of each owner who has actions (the queue: no capacity)
    select owner_id, max(owner_capacity) as capacity, max(owner_today) as owner_today
    from scheduled
    group by owner_id
),

final as (
    select
        scheduled.owner_id,
        coalesce(owners.owner_name, scheduled.owner_id) as owner_name,
        scheduled.due_date,
        scheduled.due_date = max(scheduled.owner_today) as is_owner_today,
        max(capacity.capacity) as capacity,
        count(*) as actions_due,
        count(*) filter (where decided.is_hand_raise) as hand_raises,
        count(*) filter (where scheduled.working_days_deferred > 0) as moved_here,
        count(*) filter (where scheduled.is_handed_over) as handed_over_here
    from scheduled
    inner join decided on decided.person_id = scheduled.person_id
    left join capacity on capacity.owner_id = scheduled.owner_id
    left join owners on owners.owner_id = scheduled.owner_id
    group by scheduled.owner_id, coalesce(owners.owner_name, scheduled.owner_id), scheduled.due_date
)

select * from final
