{#- Every Segment event with its person (docs/identity.md: an event is resolved by its strongest identifier: userId,
    then a non-role email, then anonymousId) and the account the person was at when it happened.
    Grain: message_id. -#}
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

resolved as (
    select
        segment_events.message_id,
        segment_events.call_type,
        segment_events.event_name,
        segment_events.page_path,
        segment_events.occurred_at,
        coalesce(by_user.person_id, by_email.person_id, by_anonymous.person_id) as person_id,
        case
            when by_user.person_id is not null then 'segment_user_id'
            when by_email.person_id is not null then 'email'
            when by_anonymous.person_id is not null then 'segment_anonymous_id'
        end as resolved_by
    from segment_events
    left join bridge as by_user
        on by_user.identifier_id = 'segment_user_id:' || trim(segment_events.user_id)
    left join bridge as by_email
        on by_email.identifier_id = 'email:' || {{ normalize_email('segment_events.email') }}
        and not (by_email.is_role_address or by_email.is_junk_address)
    left join bridge as by_anonymous
        on by_anonymous.identifier_id = 'segment_anonymous_id:' || trim(segment_events.anonymous_id)
),

final as (
    select
        resolved.*,
        person_accounts.account_id
    from resolved
    left join person_accounts
        on {{ person_account_at('person_accounts', 'resolved.person_id', 'resolved.occurred_at') }}
)

select * from final
