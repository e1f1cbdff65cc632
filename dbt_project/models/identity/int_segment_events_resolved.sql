{#- Every Segment event with its person (docs/identity.md: an event is resolved by its strongest identifier: userId,
    then a non-role email, then anonymousId) and the account the person was at when it happened.
    Grain: message_id. With what it was resolved by: resolved_identifier_id (the bridge node), the account period
    (account_valid_from, null for the person's first account, which also holds before it was seen; account_valid_to)
    and landed_at.
    Incremental by row (docs/architecture.md): a run resolves the events landed since the last run and the events
    whose resolution no longer holds: their identifier belongs to another person now (a merge, a split, a new
    anchor), their account period is no longer one of the person's, or their person had no account and has one now.
    Identity changes reach events of any day (on M, one new day moves events on 89 of 90 days), so the rewrite is
    by event, not by day. -#}
{{ config(**incremental_by_key('message_id')) }}
{%- set incremental = is_incremental()
    and incremental_columns_ready(['resolved_identifier_id', 'account_valid_from', 'account_valid_to', 'landed_at']) %}

with

segment_events as (
    select * from {{ ref('stg_segment__events') }}
),

bridge as (
    select * from {{ ref('bridge_person_identifier') }}
),

person_accounts as (
    select * from {{ ref('int_person_accounts_dated') }}
),
{%- if incremental %}

kept as (
    select * from {{ this }}
),

rewritten as (
    -- landed since the last run
    select message_id from segment_events where {{ landed_after_high_water_mark() }}
    union
    -- the identifier it was resolved by belongs to another person now, or to nobody
    select kept.message_id
    from kept
    left join bridge on bridge.identifier_id = kept.resolved_identifier_id
    where kept.resolved_identifier_id is not null and bridge.person_id is distinct from kept.person_id
    union
    -- the account period it was placed in is not one of the person's any more
    select kept.message_id
    from kept
    left join person_accounts
        on person_accounts.person_id = kept.person_id
        and person_accounts.account_id = kept.account_id
        and (case when person_accounts.is_first then null else person_accounts.valid_from end)
            is not distinct from kept.account_valid_from
        and person_accounts.valid_to is not distinct from kept.account_valid_to
    where kept.account_id is not null and person_accounts.person_id is null
    union
    -- the person had no account, and has one now
    select kept.message_id
    from kept
    inner join person_accounts on person_accounts.person_id = kept.person_id
    where kept.account_id is null
),

events as (
    select * from segment_events
    where message_id in (select message_id from rewritten)
),
{%- else %}

events as (
    select * from segment_events
),
{%- endif %}

resolved as (
    select
        events.message_id,
        events.call_type,
        events.event_name,
        events.page_path,
        events.occurred_at,
        coalesce(by_user.person_id, by_email.person_id, by_anonymous.person_id) as person_id,
        case
            when by_user.person_id is not null then 'segment_user_id'
            when by_email.person_id is not null then 'email'
            when by_anonymous.person_id is not null then 'segment_anonymous_id'
        end as resolved_by,
        coalesce(by_user.identifier_id, by_email.identifier_id, by_anonymous.identifier_id) as resolved_identifier_id,
        events.landed_at
    from events
    left join bridge as by_user
        on by_user.identifier_id = 'segment_user_id:' || trim(events.user_id)
    left join bridge as by_email
        on by_email.identifier_id = 'email:' || {{ normalize_email('events.email') }}
        and not (by_email.is_role_address or by_email.is_junk_address)
    left join bridge as by_anonymous
        on by_anonymous.identifier_id = 'segment_anonymous_id:' || trim(events.anonymous_id)
),

final as (
    select
        resolved.message_id,
        resolved.call_type,
        resolved.event_name,
        resolved.page_path,
        resolved.occurred_at,
        resolved.person_id,
        resolved.resolved_by,
        person_accounts.account_id,
        resolved.resolved_identifier_id,
        case when not person_accounts.is_first then person_accounts.valid_from end as account_valid_from,
        person_accounts.valid_to as account_valid_to,
        resolved.landed_at
    from resolved
    left join person_accounts
        on {{ person_account_at('person_accounts', 'resolved.person_id', 'resolved.occurred_at') }}
)

select * from final
