{#- The stage map before capacity (docs/decisions.md, playbook 004 "CRM truth"): one row per person (grain:
    person_id) with the stage, the last action and its date, the next action as a sentence an SDR can act on, its date, the owner, the decision
    that is blocked, the evidence note, the open risk and the suppression reason. Suppressed people get "No
    action" with the reason; no email action is proposed while the owner's sending domain is paused or the
    frequency cap is reached. int_next_actions_scheduled then fits the actions to each owner's capacity, and
    mart_stage_map joins the two. -#}
with

assessed as (
    select * from {{ ref('int_persons_assessed') }}
),

routes as (
    select * from {{ ref('int_persons_routed') }}
),

paused_domains as (
    select * from {{ ref('int_sending_domains_paused') }}
),

mailings as (
    select * from {{ ref('stg_sales_engagement__mailings') }}
),

as_of as (
    select * from {{ ref('int_as_of_dated') }}
),

crm_tasks as (
    select * from {{ ref('stg_hubspot__tasks') }}
),

sentences as (
    select next_action_kind as sentence_kind, variant as sentence_variant, sentence
    from {{ ref('next_action_sentences') }}
),

owner_domains as (
    -- the domain an owner sends sales email from (the one of their latest mailing) and whether the kill switch
    -- pauses it now
    select
        ranked.owner_id,
        ranked.sending_domain,
        paused_domains.sending_domain is not null as is_paused,
        paused_domains.paused_since
    from (
        select
            cast(owner_id as {{ dbt.type_string() }}) as owner_id,
            sending_domain,
            row_number() over (partition by owner_id order by updated_at desc, mailing_id desc) as recency
        from mailings
    ) as ranked
    left join paused_domains on paused_domains.sending_domain = ranked.sending_domain
    where ranked.recency = 1
),

facts as (
    select
        assessed.person_id,
        assessed.first_seen_at,
        assessed.lead_score,
        assessed.p_opportunity_30d,
        assessed.grade,
        assessed.intent_score,
        assessed.top_reasons,
        assessed.reason_1,
        assessed.unknown_fit_fields,
        assessed.suppression_reason,
        assessed.is_contact_blocked,
        assessed.is_frequency_capped,
        assessed.touches_in_cap_window,
        assessed.last_touch_at,
        assessed.last_sales_touch_at,
        assessed.last_touch_channel,
        assessed.last_reply_at,
        assessed.last_meeting_booked_at,
        assessed.last_meeting_at,
        routes.route,
        routes.reason_code,
        routes.route_confidence,
        routes.owner_id,
        routes.owner_source,
        routes.is_exception,
        routes.exception_reason,
        routes.last_hand_raise_at,
        owner_domains.sending_domain as owner_sending_domain,
        coalesce(owner_domains.is_paused, false) as is_sending_domain_paused,
        owner_domains.paused_since,
        as_of.as_of,
        cast(floor({{ seconds_between('routes.last_hand_raise_at', 'as_of.as_of') }} / 60) as integer)
            as minutes_since_hand_raise
    from assessed
    inner join routes on routes.person_id = assessed.person_id
    left join owner_domains on owner_domains.owner_id = routes.owner_id
    cross join as_of
),

staged as (
    select
        facts.*,
        case
            when suppression_reason = 'existing_customer' then 'customer'
            when suppression_reason = 'open_opportunity' then 'opportunity'
            when is_contact_blocked then 'suppressed'
            when last_meeting_at >= as_of
                or last_meeting_booked_at > {{ dbt.dateadd('day', -1 * var('active_window_days'), 'as_of') }}
                then 'meeting'
            when last_reply_at > {{ dbt.dateadd('day', -1 * var('active_window_days'), 'as_of') }} then 'follow_up'
            when suppression_reason = 'active_sequence'
                or last_sales_touch_at > {{ dbt.dateadd('day', -1 * var('active_window_days'), 'as_of') }}
                then 'outreach'
            when route = 'enrich' then 'enrichment'
            when route = 'pursue' and unknown_fit_fields is null then 'qualified'
            when route = 'pursue' then 'routed'
            when route = 'nurture' and last_touch_at is null
                and first_seen_at > {{ dbt.dateadd('hour', -1 * var('new_lead_window_hours'), 'as_of') }} then 'new'
            else 'nurture'
        end as stage,
        -- an email is only proposed when the sending domain is active and the frequency cap leaves room
        not is_sending_domain_paused and not is_frequency_capped as can_email
    from facts
),

warehouse_tasks as (
    -- the CRM's tasks the reverse ETL created: revops_action_key = person_id:next_action_kind:cycle
    select
        {{ dbt.split_part('action_key', "':'", 1) }} as person_id,
        {{ dbt.split_part('action_key', "':'", 2) }} as action_kind,
        {{ dbt.safe_cast(dbt.split_part('action_key', "':'", 3), api.Column.translate_type('integer')) }}
            as task_cycle,
        task_status,
        completed_at
    from crm_tasks
    where action_key is not null
),

task_history as (
    -- per person and action kind: the last cycle with a task, and when its latest completed task was completed
    select
        person_id,
        action_kind,
        max(task_cycle) as last_cycle,
        max(case when task_status = 'COMPLETED' then task_cycle end) as last_completed_cycle,
        max(case when task_status = 'COMPLETED' then completed_at end) as last_completed_at
    from warehouse_tasks
    group by person_id, action_kind
),

decided_kinds as (
    select
        staged.*,
        case
            when stage = 'customer' then 'context'
            when stage = 'opportunity' then 'context'
            when stage = 'suppressed' then 'none'
            when stage = 'meeting' then 'prepare'
            when stage = 'follow_up' then case when can_email then 'email' else 'call' end
            when stage = 'outreach' then 'wait'
            when stage = 'enrichment' then 'enrich'
            when stage in ('qualified', 'routed') then
                case when last_hand_raise_at is not null or grade = 'A' or not can_email then 'call' else 'email' end
            when stage = 'new' then 'review'
            when route = 'skip' then 'none'
            else 'nurture'
        end as decided_kind
    from staged
),

actions as (
    -- A task the rep completed in the CRM ends that action: until the person does something new (replies, books
    -- a meeting, raises a hand) after it was completed, the next action waits instead of asking again. After
    -- that, the same kind of action is the next cycle: a new task, never the completed one reopened.
    select
        decided_kinds.*,
        case
            when task_history.last_completed_cycle = task_history.last_cycle
                and task_history.last_completed_at >= coalesce(
                    greatest(decided_kinds.last_reply_at, decided_kinds.last_meeting_booked_at,
                             decided_kinds.last_hand_raise_at), task_history.last_completed_at)
                then 'wait'
            else decided_kinds.decided_kind
        end as next_action_kind,
        case
            when task_history.last_completed_cycle = task_history.last_cycle
                and task_history.last_completed_at >= coalesce(
                    greatest(decided_kinds.last_reply_at, decided_kinds.last_meeting_booked_at,
                             decided_kinds.last_hand_raise_at), task_history.last_completed_at)
                then task_history.last_completed_at
        end as task_done_at,
        case
            when task_history.last_cycle is null then 1
            when task_history.last_completed_cycle = task_history.last_cycle then task_history.last_cycle + 1
            else task_history.last_cycle
        end as task_cycle
    from decided_kinds
    left join task_history
        on task_history.person_id = decided_kinds.person_id
        and task_history.action_kind = decided_kinds.decided_kind
),

variants as (
    -- which sentence of seeds/next_action_sentences fits the person's situation
    select
        actions.*,
        case next_action_kind
            when 'none' then case
                when suppression_reason is not null then 'suppressed'
                when reason_code in ('shared_mailbox', 'no_contact_point') then reason_code
                else 'no_signal' end
            when 'context' then case when stage = 'customer' then 'customer' else 'opportunity' end
            when 'prepare' then case when last_meeting_at >= as_of then 'meeting_ahead' else 'recap' end
            when 'wait' then case
                when task_done_at is not null then 'task_done'
                when is_frequency_capped then 'capped'
                else 'sequence' end
            when 'email' then case when stage = 'follow_up' then 'reply' else 'first' end
            when 'call' then case
                when stage = 'follow_up' then 'reply'
                when minutes_since_hand_raise <= {{ var('call_now_window_minutes') }} then 'hand_raise_now'
                when last_hand_raise_at is not null then 'hand_raise'
                else 'plain' end
            else 'default'
        end as next_action_variant
    from actions
),

final as (
    select
        person_id,
        stage,
        route,
        reason_code as route_reason,
        route_confidence,
        owner_id,
        owner_source,
        lead_score,
        p_opportunity_30d,
        grade,
        case
            when last_reply_at is not null and last_reply_at >= coalesce(last_touch_at, last_reply_at)
                and last_reply_at >= coalesce(last_meeting_booked_at, last_reply_at) then 'replied to a sales email'
            when last_meeting_booked_at is not null and last_meeting_booked_at >= coalesce(last_touch_at, last_meeting_booked_at)
                then 'meeting booked'
            when last_touch_at is not null then case when last_touch_channel = 'call' then 'outbound call'
                                                      else 'email delivered' end
            else 'none yet'
        end as last_action,
        greatest(last_reply_at, last_meeting_booked_at, last_touch_at) as last_action_at,
        next_action_kind,
        {{ fill_placeholders('sentences.sentence', {
            '{suppression reason}': "replace(suppression_reason, '_', ' ')",
            '{: top reasons}': "coalesce(': ' || top_reasons, '')",
            '{ (top reasons)}': "coalesce(' (' || top_reasons || ')', '')",
            '{: reason 1}': "coalesce(': ' || reason_1, '')",
            '{ (reason 1)}': "coalesce(' (' || reason_1 || ')', '')",
            '{meeting date}': "cast(cast(last_meeting_at as date) as " ~ dbt.type_string() ~ ")",
            '{reply date}': "cast(cast(last_reply_at as date) as " ~ dbt.type_string() ~ ")",
            '{hand raise date}': "cast(cast(last_hand_raise_at as date) as " ~ dbt.type_string() ~ ")",
            '{minutes since hand raise}': "cast(minutes_since_hand_raise as " ~ dbt.type_string() ~ ")",
            '{touches in cap window}': "cast(touches_in_cap_window as " ~ dbt.type_string() ~ ")",
            '{task done date}': "cast(cast(task_done_at as date) as " ~ dbt.type_string() ~ ")",
            '{unknown fit fields}': "unknown_fit_fields",
            '{intent score}': "cast(cast(round(intent_score) as integer) as " ~ dbt.type_string() ~ ")",
            '{cap window days}': "'" ~ var('frequency_cap_window_days') ~ "'",
            '{nurture review days}': "'" ~ var('nurture_review_days') ~ "'",
            '{; email paused}': "case when is_sending_domain_paused then '; email paused: ' || owner_sending_domain
                                 || ' is paused' else '' end",
        }) }} as next_action,
        cast(case
            when next_action_kind = 'none' then {{ dbt.dateadd('day', var('suppressed_review_days'), 'as_of') }}
            when next_action_kind = 'nurture' then {{ dbt.dateadd('day', var('nurture_review_days'), 'as_of') }}
            when next_action_kind = 'prepare' and last_meeting_at >= as_of then last_meeting_at
            when next_action_kind = 'wait' and is_frequency_capped
                then greatest(as_of, {{ dbt.dateadd('day', var('frequency_cap_window_days'), 'last_touch_at') }})
            else as_of
        end as date) as next_action_date,
        case
            when stage = 'suppressed' then 'contact: ' || replace(suppression_reason, '_', ' ')
            when stage = 'enrichment' then 'route: ' || unknown_fit_fields || ' unknown'
            when is_frequency_capped then 'send: frequency cap reached'
            when is_sending_domain_paused then 'email: sending domain ' || owner_sending_domain || ' paused'
        end as blocked_decision,
        coalesce(top_reasons, 'no signals yet') as evidence_note,
        nullif(concat_ws('; ',
            exception_reason,
            case when unknown_fit_fields is not null and stage not in ('suppressed', 'customer')
                 then 'fit unknown: ' || unknown_fit_fields end,
            case when owner_source = 'fallback_queue' then 'owner from the fallback queue' end,
            case when is_sending_domain_paused then 'sending domain ' || owner_sending_domain || ' paused since '
                 || cast(paused_since as {{ dbt.type_string() }}) end,
            case when is_frequency_capped then 'frequency cap reached' end), '') as open_risk,
        suppression_reason,
        is_exception,
        last_hand_raise_at,
        task_cycle,
        -- an unanswered hand raise: its call is never deferred past its SLA (int_next_actions_scheduled)
        next_action_kind = 'call' and last_hand_raise_at is not null and stage in ('qualified', 'routed')
            as is_hand_raise,
        as_of
    from variants
    left join sentences
        on sentences.sentence_kind = variants.next_action_kind and sentences.sentence_variant = variants.next_action_variant
)

select * from final
