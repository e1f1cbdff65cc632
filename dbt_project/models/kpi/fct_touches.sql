{#- Every touch of docs/kpis.md, one row per touch (grain: touch_id): marketing email delivered (ESP delivered,
    emitter marketing:<campaign_id>), sales email delivered (a mailing's deliveredAt, sales:<sequenceId>), a
    logged outbound call (hs_timestamp, sales:call:<owner id>), and meetings at the moment they were booked
    (createdAt, sales:meeting:<owner id>), which count as sales touches for speed-to-lead but not as touches for
    double-touch rates. person_id by the identity bridge. The emails come from int_email_touches_collected
    (incremental by day, before identity); their person is joined here on each run (a hash join on the identifier
    node), so a merge or split of persons reaches touches of every day. -#}
with

email_touches as (
    select * from {{ ref('int_email_touches_collected') }}
),

resolved_engagements as (
    select * from {{ ref('int_engagements_resolved') }}
),

bridge as (
    select * from {{ ref('bridge_person_identifier') }}
),

emails as (
    select
        email_touches.touch_id,
        email_touches.touched_at,
        bridge.person_id,
        email_touches.emitter,
        email_touches.emitter_kind,
        email_touches.channel,
        email_touches.sending_domain,
        email_touches.owner_id
    from email_touches
    inner join bridge on bridge.identifier_id = email_touches.identifier_id
),

engagements as (
    -- one row per engagement and person: a call logged on several contacts of one person touches them once
    select engagement_type as kind, engagement_id, occurred_at as touched_at, owner_id, person_id
    from resolved_engagements
    where engagement_type = 'call' and call_direction = 'OUTBOUND' and occurred_at is not null
    union all
    select engagement_type, engagement_id, created_at, owner_id, person_id
    from resolved_engagements
    where engagement_type = 'meeting' and created_at is not null
),

sales_engagements as (
    select
        kind || ':' || engagement_id || ':' || person_id,
        touched_at,
        person_id,
        case when kind = 'call' then 'sales:call:' else 'sales:meeting:' end || coalesce(owner_id, 'unknown'),
        'sales',
        kind,
        cast(null as {{ dbt.type_string() }}),
        owner_id
    from engagements
),

unioned as (
    select * from emails
    union all
    select * from sales_engagements
),

final as (
    select
        touch_id,
        touched_at,
        person_id,
        emitter,
        emitter_kind,
        channel,
        sending_domain,
        owner_id,
        channel in ('email', 'call') as counts_as_touch,
        emitter_kind = 'sales' as is_sales_touch
    from unioned
)

select * from final
