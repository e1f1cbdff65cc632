{#- Route and owner of every person (DESIGN 5). route: skip (a guardrail, an existing customer, a shared mailbox,
    no contact point, or no fit and no signal), pursue (an open deal or an active sequence already pursued, a
    recent hand-raise, or a score at var pursue_min_score), enrich (an unknown fit field could lift the score to
    pursue), else nurture; with a reason code, a confidence (seeds/route_rules × identity confidence, less
    var unknown_fit_confidence_penalty per unknown fit field) and an exception flag for human review.
    owner: the account's CRM owner, else the contact's CRM owner, else the territory's owners round-robin by
    open load (the least loaded first), else var fallback_owner_queue: never no owner. Grain: person_id. -#}
with

persons as (
    select * from {{ ref('dim_person') }}
),

accounts as (
    select * from {{ ref('dim_account') }}
),

contacts as (
    select * from {{ ref('stg_hubspot__contacts') }}
),

owners as (
    select * from {{ ref('stg_hubspot__owners') }}
),

scores as (
    select * from {{ ref('fct_lead_scores') }}
),

guardrails as (
    select * from {{ ref('int_persons_guarded') }}
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
    select dimension, max(points) as max_points from icp_rules group by dimension
),

unknown_upside as (
    -- the most an unknown fit field could add: does knowing it decide the route?
    select
        scores.person_id,
        coalesce(sum(max_points.max_points), 0) as unknown_fit_upside
    from scores
    left join max_points
        on (max_points.dimension = 'employees' and scores.employees_points is null)
        or (max_points.dimension = 'industry' and scores.industry_points is null)
        or (max_points.dimension = 'territory' and scores.territory_points is null)
        or (max_points.dimension = 'seniority' and scores.seniority_points is null)
    group by scores.person_id
),

decided as (
    select
        persons.person_id,
        persons.account_id,
        persons.primary_crm_contact_id,
        persons.confidence as identity_confidence,
        persons.is_fuzzy_joined,
        persons.is_oversized_cluster,
        scores.lead_score,
        scores.grade,
        scores.intent_score,
        scores.territory,
        scores.unknown_fit_fields,
        guardrails.suppression_reason,
        hand_raises.last_hand_raise_at,
        case
            when guardrails.suppression_reason in ('do_not_contact', 'unsubscribed', 'hard_bounced', 'spam_reported',
                                                   'legal_hold') then 'skip'
            when guardrails.suppression_reason = 'existing_customer' then 'skip'
            when persons.is_shared_mailbox then 'skip'
            when persons.best_email is null and persons.primary_crm_contact_id is null then 'skip'
            when guardrails.suppression_reason in ('open_opportunity', 'active_sequence') then 'pursue'
            when hand_raises.person_id is not null then 'pursue'
            when scores.lead_score >= {{ var('pursue_min_score') }} then 'pursue'
            when scores.unknown_fit_fields is not null and scores.intent_score >= {{ var('enrich_min_intent') }}
                and scores.lead_score + unknown_upside.unknown_fit_upside >= {{ var('pursue_min_score') }}
                then 'enrich'
            when scores.signal_count = 0 and scores.grade = 'D' then 'skip'
            else 'nurture'
        end as route,
        case
            when guardrails.suppression_reason in ('do_not_contact', 'unsubscribed', 'hard_bounced', 'spam_reported',
                                                   'legal_hold') then 'suppressed'
            when guardrails.suppression_reason = 'existing_customer' then 'existing_customer'
            when persons.is_shared_mailbox then 'shared_mailbox'
            when persons.best_email is null and persons.primary_crm_contact_id is null then 'no_contact_point'
            when guardrails.suppression_reason = 'open_opportunity' then 'open_opportunity'
            when guardrails.suppression_reason = 'active_sequence' then 'in_active_sequence'
            when hand_raises.person_id is not null then 'hand_raiser'
            when scores.lead_score >= {{ var('pursue_min_score') }} then 'score'
            when scores.unknown_fit_fields is not null and scores.intent_score >= {{ var('enrich_min_intent') }}
                and scores.lead_score + unknown_upside.unknown_fit_upside >= {{ var('pursue_min_score') }}
                then 'fit_unknown'
            when scores.signal_count = 0 and scores.grade = 'D' then 'no_signal'
            else 'score'
        end as reason_code
    from persons
    inner join scores on scores.person_id = persons.person_id
    inner join guardrails on guardrails.person_id = persons.person_id
    inner join unknown_upside on unknown_upside.person_id = persons.person_id
    left join hand_raises on hand_raises.person_id = persons.person_id
),

known_owners as (
    select
        decided.person_id,
        coalesce(accounts.owner_id, contacts.owner_id) as owner_id,
        case when accounts.owner_id is not null then 'account_owner'
             when contacts.owner_id is not null then 'contact_owner' end as owner_source
    from decided
    left join accounts on accounts.account_id = decided.account_id
    left join contacts on contacts.contact_id = decided.primary_crm_contact_id
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
                           order by decided.lead_score desc, decided.person_id) as assignment_rank
    from decided
    inner join known_owners on known_owners.person_id = decided.person_id
    where known_owners.owner_id is null and decided.territory is not null
),

demand as (
    select territory, count(*) as people from to_assign group by territory
),

slots as (
    -- owner o's k-th new person brings its load to open_load + k: taking slots by that load, then owner id,
    -- gives each next person to the least loaded owner (greedy balance)
    select
        open_loads.owner_id,
        open_loads.territory,
        open_loads.open_load + {{ explode_range('demand.people') }} as load_after
    from open_loads
    inner join demand on demand.territory = open_loads.territory
),

ranked_slots as (
    select
        owner_id,
        territory,
        row_number() over (partition by territory order by load_after, owner_id) as slot_rank
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
        round(route_rules.base_confidence * decided.identity_confidence
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
                 then 'identity confidence ' || cast(round(decided.identity_confidence, 2) as varchar) end,
            case when decided.route = 'pursue' and known_owners.owner_id is null and assigned.owner_id is null
                 then 'pursued but no owner in territory: fallback queue' end), '') as exception_reason,
        decided.last_hand_raise_at,
        decided.territory
    from decided
    inner join route_rules on route_rules.route = decided.route and route_rules.reason_code = decided.reason_code
    left join known_owners on known_owners.person_id = decided.person_id
    left join assigned on assigned.person_id = decided.person_id
)

select * from final
