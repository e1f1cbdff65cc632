{#- Route and owner of every person (docs/decisions.md). Route and reason code come from seeds/route_rules: the first rule,
    by precedence, whose condition holds — skip (a guardrail, an existing customer, a shared mailbox, no contact
    point, or no fit and no signal), pursue (an open deal or an active sequence already pursued, a recent
    hand-raise, or a score at var pursue_min_score), enrich (an unknown fit field could lift the score to pursue),
    else nurture; with a confidence (seeds/route_rules × identity confidence, less
    var unknown_fit_confidence_penalty per unknown fit field) and an exception flag for human review.
    owner: the account's CRM owner, else the contact's CRM owner, else the territory's owners round-robin by
    open load (the least loaded first), else var fallback_owner_queue: never no owner. Grain: person_id. -#}
with

assessed as (
    select * from {{ ref('int_persons_assessed') }}
),

profiles as (
    select * from {{ ref('int_persons_profiled') }}
),

owners as (
    select * from {{ ref('stg_hubspot__owners') }}
),

signals as (
    select * from {{ ref('fct_signals') }}
),

route_rules as (
    select * from {{ ref('route_rules') }}
),

icp_rules as (
    select * from {{ scoring_weights('icp_rules') }}
),

as_of as (
    select * from {{ ref('int_as_of_dated') }}
),

hand_raises as (
    select signals.person_id, max(signals.signal_at) as last_hand_raise_at
    from signals
    cross join as_of
    where signals.signal_type in ('demo_requested', 'contact_sales_submitted')
        and signals.signal_at <= as_of.as_of
        and signals.signal_at > {{ dbt.dateadd('day', -1 * var('hand_raiser_window_days'), 'as_of.as_of') }}
    group by signals.person_id
),

max_points as (
    -- a known level's best, beyond what not knowing is already worth ('(unknown)' rows of calibrated weights)
    select
        dimension,
        max(case when coalesce(match_value, '') <> '(unknown)' then points end)
            - coalesce(max(case when match_value = '(unknown)' then points end), 0) as max_points
    from icp_rules
    group by dimension
),

unknown_upside as (
    -- the most an unknown fit field could add: does knowing it decide the route?
    select
        assessed.person_id,
        coalesce(sum(greatest(max_points.max_points, 0)), 0) as unknown_fit_upside
    from assessed
    left join max_points
        on (max_points.dimension = 'employees' and assessed.employees_points is null)
        or (max_points.dimension = 'industry' and assessed.industry_points is null)
        or (max_points.dimension = 'territory' and assessed.territory_points is null)
        or (max_points.dimension = 'seniority' and assessed.seniority_points is null)
    group by assessed.person_id
),

conditions as (
    -- each routing condition named once; seeds/route_rules orders them and says what each one decides
    select
        assessed.person_id,
        assessed.identity_confidence,
        assessed.is_fuzzy_joined,
        assessed.is_oversized_cluster,
        assessed.lead_score,
        assessed.grade,
        assessed.intent_score,
        assessed.territory,
        assessed.unknown_fit_fields,
        assessed.suppression_reason,
        hand_raises.last_hand_raise_at,
        coalesce(assessed.is_contact_blocked, false) as contact_blocked,
        coalesce(assessed.suppression_reason = 'existing_customer', false) as existing_customer,
        coalesce(assessed.is_shared_mailbox, false) as shared_mailbox,
        assessed.best_email is null and assessed.primary_crm_contact_id is null as no_contact_point,
        coalesce(assessed.suppression_reason = 'open_opportunity', false) as open_opportunity,
        coalesce(assessed.suppression_reason = 'active_sequence', false) as active_sequence,
        hand_raises.person_id is not null as hand_raiser,
        coalesce(assessed.lead_score >= {{ var('pursue_min_score') }}, false) as score_at_pursue_threshold,
        coalesce(assessed.unknown_fit_fields is not null and assessed.intent_score >= {{ var('enrich_min_intent') }}
                 and assessed.lead_score + unknown_upside.unknown_fit_upside >= {{ var('pursue_min_score') }},
                 false) as fit_unknown_could_pursue,
        coalesce(assessed.signal_count = 0 and assessed.grade = 'D', false) as no_fit_no_signal
    from assessed
    inner join unknown_upside on unknown_upside.person_id = assessed.person_id
    left join hand_raises on hand_raises.person_id = assessed.person_id
),

matched_rules as (
    select
        conditions.person_id,
        route_rules.route,
        route_rules.reason_code,
        route_rules.base_confidence,
        row_number() over (partition by conditions.person_id order by route_rules.precedence nulls last) as rule_rank
    from conditions
    cross join route_rules
    where case route_rules.condition
        when 'contact_blocked' then conditions.contact_blocked
        when 'existing_customer' then conditions.existing_customer
        when 'shared_mailbox' then conditions.shared_mailbox
        when 'no_contact_point' then conditions.no_contact_point
        when 'open_opportunity' then conditions.open_opportunity
        when 'active_sequence' then conditions.active_sequence
        when 'hand_raiser' then conditions.hand_raiser
        when 'score_at_pursue_threshold' then conditions.score_at_pursue_threshold
        when 'fit_unknown_could_pursue' then conditions.fit_unknown_could_pursue
        when 'no_fit_no_signal' then conditions.no_fit_no_signal
        when 'otherwise' then true
        else false
    end
),

decided as (
    select conditions.*, matched_rules.route, matched_rules.reason_code, matched_rules.base_confidence
    from conditions
    inner join matched_rules on matched_rules.person_id = conditions.person_id and matched_rules.rule_rank = 1
),

known_owners as (
    select
        decided.person_id,
        coalesce(profiles.account_owner_id, profiles.contact_owner_id) as owner_id,
        case when profiles.account_owner_id is not null then 'account_owner'
             when profiles.contact_owner_id is not null then 'contact_owner' end as owner_source
    from decided
    left join profiles on profiles.person_id = decided.person_id
),

open_loads as (
    -- people an owner already holds and still works (not skipped)
    select owners.owner_id, owners.primary_team as territory, count(decided.person_id) as open_load
    from owners
    left join known_owners on known_owners.owner_id = owners.owner_id
    left join decided on decided.person_id = known_owners.person_id and decided.route <> 'skip'
    group by owners.owner_id, owners.primary_team
),

to_assign as (
    select
        decided.person_id,
        decided.territory,
        row_number() over (partition by decided.territory
                           order by decided.lead_score desc, decided.person_id nulls last) as assignment_rank
    from decided
    inner join known_owners on known_owners.person_id = decided.person_id
    where known_owners.owner_id is null and decided.territory is not null
),

demand as (
    select territory, count(*) as people from to_assign group by territory
),

owner_slots as (
    -- one row per k = 1..(people to assign in the territory) for each of its owners
    select
        open_loads.owner_id,
        open_loads.territory,
        open_loads.open_load,
        {{ explode_range('demand.people') }} as k
    from open_loads
    inner join demand on demand.territory = open_loads.territory
),

slots as (
    -- owner o's k-th new person brings its load to open_load + k: taking slots by that load, then owner id,
    -- gives each next person to the least loaded owner (greedy balance)
    select owner_id, territory, open_load + k as load_after
    from owner_slots
),

ranked_slots as (
    select
        owner_id,
        territory,
        row_number() over (partition by territory order by load_after nulls last, owner_id nulls last) as slot_rank
    from slots
),

assigned as (
    select to_assign.person_id, ranked_slots.owner_id
    from to_assign
    inner join ranked_slots
        on ranked_slots.territory = to_assign.territory and ranked_slots.slot_rank = to_assign.assignment_rank
),

final as (
    select
        decided.person_id,
        decided.route,
        decided.reason_code,
        round(decided.base_confidence * decided.identity_confidence
              * greatest(0, 1 - {{ var('unknown_fit_confidence_penalty') }}
                                * coalesce(length(decided.unknown_fit_fields)
                                           - length(replace(decided.unknown_fit_fields, ',', '')) + 1, 0)),
              3) as route_confidence,
        coalesce(known_owners.owner_id, assigned.owner_id, '{{ var("fallback_owner_queue") }}') as owner_id,
        case
            when known_owners.owner_id is not null then known_owners.owner_source
            when assigned.owner_id is not null then 'territory_round_robin'
            else 'fallback_queue'
        end as owner_source,
        decided.identity_confidence < {{ var('exception_min_identity_confidence') }}
            or decided.is_oversized_cluster
            or (decided.route = 'pursue' and known_owners.owner_id is null and assigned.owner_id is null)
            as is_exception,
        nullif(concat_ws('; ',
            case when decided.is_oversized_cluster then 'identity from an oversized cluster' end,
            case when decided.identity_confidence < {{ var('exception_min_identity_confidence') }}
                 then 'identity confidence ' || cast(round(decided.identity_confidence, 2) as {{ dbt.type_string() }}) end,
            case when decided.route = 'pursue' and known_owners.owner_id is null and assigned.owner_id is null
                 then 'pursued but no owner in territory: fallback queue' end), '') as exception_reason,
        decided.last_hand_raise_at,
        decided.territory
    from decided
    left join known_owners on known_owners.person_id = decided.person_id
    left join assigned on assigned.person_id = decided.person_id
)

select * from final
