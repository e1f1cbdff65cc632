{#- Each task action of the stage map fitted to its owner's capacity (docs/decisions.md, "Capacity"). Grain:
    person_id (people with a task action and an owner who is a person; the fallback queue has no capacity).
    - An owner does seeds/owner_capacity actions a working day (per owner, else per team, else the default).
      Working days are Monday to Friday in the time zone of the owner's territory (their primary team in
      seeds/territories); "today" is the local date of as_of, or the next working day when that is a weekend.
    - Unanswered hand raises come first and are never deferred: they are due today. Those beyond the owner's
      capacity go to the territory's owners with room today (the least loaded first), else to the fallback queue,
      and count as exceptions.
    - Actions dated in the future (a meeting to prepare) keep their day and take capacity there.
    - The rest, due now, are ordered by expected value (the kind's urgency, seeds/next_action_kinds, × the
      calibrated probability of an opportunity in 30 days in percent when the scores are calibrated, else × the
      lead score) and fill the free capacity of today and then the next working days: never dropped. -#}
with

decided as (
    select * from {{ ref('int_next_actions_decided') }}
),

owners as (
    select * from {{ ref('stg_hubspot__owners') }}
),

territories as (
    select * from {{ ref('territories') }}
),

capacity_rules as (
    select * from {{ ref('owner_capacity') }}
),

kinds as (
    select * from {{ ref('next_action_kinds') }}
),

as_of as (
    select * from {{ ref('int_as_of_dated') }}
),

owner_days as (
    -- each owner's local calendar from today on, weekends out, numbered 0, 1, 2, ... (working day index)
    select
        owner_id,
        territory,
        capacity,
        local_day,
        row_number() over (partition by owner_id order by local_day nulls last) - 1 as working_day
    from (
        select
            owners.owner_id,
            owners.primary_team as territory,
            coalesce(by_owner.actions_per_day, by_team.actions_per_day, by_default.actions_per_day) as capacity,
            cast({{ dbt.dateadd('day', 'day_offset.n - 1',
                                'cast(' ~ utc_to_local('as_of.as_of', "coalesce(home.time_zone, 'UTC')") ~ ' as date)') }}
                 as date) as local_day
        from owners
        cross join as_of
        cross join (select {{ explode_range(var('capacity_horizon_days')) }} as n) as day_offset
        left join territories as home on home.territory = owners.primary_team and home.is_territory_home
        left join capacity_rules as by_owner on by_owner.scope = 'owner' and by_owner.owner_key = owners.owner_id
        left join capacity_rules as by_team on by_team.scope = 'team' and by_team.owner_key = owners.primary_team
        left join capacity_rules as by_default on by_default.scope = 'default'
    ) as calendar
    where {{ is_weekday('local_day') }}
),

today as (
    select owner_id, territory, capacity, local_day from owner_days where working_day = 0
),

actions as (
    select
        decided.person_id,
        decided.owner_id,
        decided.next_action_kind,
        decided.next_action_date,
        decided.is_hand_raise,
        decided.last_hand_raise_at,
        coalesce(100 * decided.p_opportunity_30d, decided.lead_score, 0) * kinds.urgency as expected_value
    from decided
    inner join kinds on kinds.next_action_kind = decided.next_action_kind and kinds.is_task
    inner join today on today.owner_id = decided.owner_id
),

hand_raises as (
    select
        actions.*,
        today.territory,
        today.capacity,
        row_number() over (partition by actions.owner_id
                           order by actions.last_hand_raise_at nulls last, actions.person_id nulls last) as hand_raise_rank
    from actions
    inner join today on today.owner_id = actions.owner_id
    where actions.is_hand_raise
),

overflow as (
    -- hand raises the owner cannot take today, in the order they were raised, per territory
    select
        hand_raises.*,
        row_number() over (partition by hand_raises.territory
                           order by hand_raises.last_hand_raise_at nulls last, hand_raises.person_id nulls last) as overflow_rank
    from hand_raises
    where hand_raises.hand_raise_rank > hand_raises.capacity
),

room as (
    -- what each owner has left today after their own hand raises
    select
        today.owner_id,
        today.territory,
        today.capacity - count(hand_raises.person_id) as free_today
    from today
    left join hand_raises on hand_raises.owner_id = today.owner_id
    group by today.owner_id, today.territory, today.capacity
),

room_slots as (
    -- an owner's k-th extra hand raise leaves them free_today - k: the most room left first, then by owner id
    select
        owner_id,
        territory,
        row_number() over (partition by territory order by free_today - k desc, owner_id nulls last) as slot_rank
    from (select room.*, {{ explode_range('room.free_today') }} as k from room where room.free_today > 0) as slots
),

handed_over as (
    select
        overflow.person_id,
        coalesce(room_slots.owner_id, '{{ var("fallback_owner_queue") }}') as owner_id
    from overflow
    left join room_slots
        on room_slots.territory = overflow.territory and room_slots.slot_rank = overflow.overflow_rank
),

owned as (
    -- every action with the owner who does it
    select
        actions.*,
        coalesce(handed_over.owner_id, actions.owner_id) as scheduled_owner_id,
        handed_over.person_id is not null as is_handed_over
    from actions
    left join handed_over on handed_over.person_id = actions.person_id
),

fixed_load as (
    -- what is already taken on each working day: hand raises today, future-dated actions on their day
    select owner_days.owner_id, owner_days.working_day, count(owned.person_id) as taken
    from owner_days
    left join owned
        on owned.scheduled_owner_id = owner_days.owner_id
        and ((owned.is_hand_raise and owner_days.working_day = 0)
             or (not owned.is_hand_raise and owner_days.working_day > 0
                 and owned.next_action_date = owner_days.local_day))
    group by owner_days.owner_id, owner_days.working_day
),

free_days as (
    select
        owner_days.owner_id,
        owner_days.working_day,
        owner_days.local_day,
        sum(greatest(owner_days.capacity - fixed_load.taken, 0)) over (
            partition by owner_days.owner_id order by owner_days.working_day
            rows between unbounded preceding and current row) as free_through
    from owner_days
    inner join fixed_load
        on fixed_load.owner_id = owner_days.owner_id and fixed_load.working_day = owner_days.working_day
),

flexible as (
    select
        owned.*,
        row_number() over (partition by owned.scheduled_owner_id
                           order by owned.expected_value desc, owned.person_id nulls last) as queue_position
    from owned
    inner join today on today.owner_id = owned.scheduled_owner_id
    where not owned.is_hand_raise and owned.next_action_date <= today.local_day
),

flexible_days as (
    -- the first working day whose free capacity, counted from today, reaches the action's place in the queue
    select flexible.person_id, min(free_days.working_day) as working_day
    from flexible
    inner join free_days
        on free_days.owner_id = flexible.scheduled_owner_id and free_days.free_through >= flexible.queue_position
    group by flexible.person_id
),

final as (
    select
        owned.person_id,
        owned.owner_id as decided_owner_id,
        owned.scheduled_owner_id as owner_id,
        owned.next_action_kind,
        owned.next_action_date as decided_date,
        case
            when owned.is_hand_raise then today.local_day
            when flexible_days.person_id is not null then days.local_day
            when owned.next_action_date > today.local_day then owned.next_action_date
            -- past the horizon: the last day looked at (the owner is far over capacity; never dropped)
            else last_day.local_day
        end as due_date,
        coalesce(flexible_days.working_day, 0) as working_days_deferred,
        owned.is_handed_over,
        -- a hand raise its owner had no room for: handed to another owner or the queue, a human should know
        owned.is_handed_over as is_capacity_exception,
        owned.expected_value,
        today.local_day as owner_today,
        today.capacity as decided_owner_capacity,
        -- the capacity of the owner who does it (a colleague who took a hand raise over has their own; the queue
        -- has none)
        doing_today.capacity as owner_capacity
    from owned
    inner join today on today.owner_id = owned.owner_id
    left join today as doing_today on doing_today.owner_id = owned.scheduled_owner_id
    left join flexible_days on flexible_days.person_id = owned.person_id
    left join owner_days as days
        on days.owner_id = owned.scheduled_owner_id and days.working_day = flexible_days.working_day
    left join (select owner_id, max(local_day) as local_day from owner_days group by owner_id) as last_day
        on last_day.owner_id = owned.scheduled_owner_id
)

select * from final
