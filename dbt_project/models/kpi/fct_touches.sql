{#- Every touch of docs/kpis.md, one row per touch (grain: touch_id): marketing email delivered (ESP delivered,
    emitter marketing:<campaign_id>), sales email delivered (a mailing's deliveredAt, sales:<sequenceId>), a
    logged outbound call (hs_timestamp, sales:call:<owner id>), and meetings at the moment they were booked
    (createdAt, sales:meeting:<owner id>), which count as sales touches for speed-to-lead but not as touches for
    double-touch rates. person_id by the identity bridge. -#}
with

esp_events as (
    select * from {{ ref('stg_esp__events') }}
),

mailings as (
    select * from {{ ref('stg_sales_engagement__mailings') }}
),

resolved_engagements as (
    select * from {{ ref('int_engagements_resolved') }}
),

bridge as (
    select * from {{ ref('bridge_person_identifier') }}
),

marketing_emails as (
    select
        'esp:' || esp_events.esp_event_id as touch_id,
        esp_events.event_at as touched_at,
        bridge.person_id,
        'marketing:' || coalesce(esp_events.campaign_id, 'unknown') as emitter,
        'marketing' as emitter_kind,
        'email' as channel,
        esp_events.sending_domain,
        cast(null as varchar) as owner_id
    from esp_events
    inner join bridge on bridge.identifier_id = 'email:' || {{ normalize_email('esp_events.recipient_email') }}
    where esp_events.event_type = 'delivered'
),

sales_emails as (
    select
        'mailing:' || cast(mailings.mailing_id as varchar),
        mailings.delivered_at,
        bridge.person_id,
        'sales:' || cast(mailings.sequence_id as varchar),
        'sales',
        'email',
        mailings.sending_domain,
        cast(mailings.owner_id as varchar)
    from mailings
    inner join bridge on bridge.identifier_id = 'prospect_id:' || cast(mailings.prospect_id as varchar)
    where mailings.delivered_at is not null
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
        cast(null as varchar),
        owner_id
    from engagements
),

unioned as (
    select * from marketing_emails
    union all
    select * from sales_emails
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
