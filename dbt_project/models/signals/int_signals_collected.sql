{#- Every dated signal of docs/kpis.md from its source, resolved to a person (Segment events, replies, meetings) or
    an account (enrichment), typed by seeds/signal_weights (source_event). Grain: signal_id. -#}
{#- A firmographic event's identity across providers (see firmographic_records) -#}
{%- set firmographic_event_key = 'account_domain, signal_type, observed_day, identifying_detail' %}
with

segment_events as (
    select * from {{ ref('int_segment_events_resolved') }}
),

enrichment_signals as (
    select * from {{ ref('stg_enrichment__signals') }}
),

mailings as (
    select * from {{ ref('stg_sales_engagement__mailings') }}
),

engagements as (
    select * from {{ ref('int_engagements_resolved') }}
),

bridge as (
    select * from {{ ref('bridge_person_identifier') }}
),

signal_weights as (
    select * from {{ ref('signal_weights') }}
),

segment_signals as (
    select
        'segment:' || segment_events.message_id as signal_id,
        segment_events.occurred_at as signal_at,
        case when segment_events.call_type = 'page' then 'page:' || segment_events.page_path
             else 'track:' || segment_events.event_name end as source_event,
        segment_events.person_id,
        cast(null as {{ dbt.type_string() }}) as account_id,
        'segment' as source,
        coalesce(segment_events.page_path, segment_events.event_name) as evidence_detail
    from segment_events
    where segment_events.call_type in ('page', 'track') and segment_events.person_id is not null
),

firmographic_records as (
    -- one signal per provider record (docs/kpis.md); the event's identity is its domain, type, day and identifying
    -- detail (a funding round, a hire's or a posting's title): the n-th such record of one provider is the same
    -- event as the n-th of another, so distinct postings of one day count each and a re-report counts once
    select
        enrichment_signals.*,
        {{ normalize_domain('company_domain') }} as account_domain,
        cast(observed_at as date) as observed_day,
        coalesce(lower(trim(coalesce({{ json_text('signal_detail', '$.round') }},
                                     {{ json_text('signal_detail', '$.title') }},
                                     {{ json_text('signal_detail', '$.job_title') }},
                                     {{ json_text('signal_detail', '$.name') }}))), '') as identifying_detail
    from enrichment_signals
    where company_domain is not null
),

firmographic_occurrences as (
    select
        firmographic_records.*,
        row_number() over (
            partition by {{ firmographic_event_key }}, provider
            order by observed_at nulls last, provider_signal_id nulls last
        ) as occurrence
    from firmographic_records
),

firmographic_signals as (
    -- both providers may report one event: it counts once, as the first provider's (by name)
    select
        'enrichment:' || provider || ':' || provider_signal_id as signal_id,
        observed_at as signal_at,
        'enrichment:' || signal_type as source_event,
        cast(null as {{ dbt.type_string() }}) as person_id,
        {{ stable_id('acc_', 'account_domain') }} as account_id,
        'enrichment:' || provider as source,
        cast(signal_detail as {{ dbt.type_string() }}) as evidence_detail,
        row_number() over (
            partition by {{ firmographic_event_key }}, occurrence
            order by provider nulls last, provider_signal_id nulls last
        ) as duplicate_rank
    from firmographic_occurrences
),

reply_signals as (
    select
        'mailing:' || cast(mailings.mailing_id as {{ dbt.type_string() }}) || ':replied' as signal_id,
        mailings.replied_at as signal_at,
        'mailing:replied' as source_event,
        bridge.person_id,
        cast(null as {{ dbt.type_string() }}) as account_id,
        'sales_engagement' as source,
        'sequence ' || cast(mailings.sequence_id as {{ dbt.type_string() }}) as evidence_detail
    from mailings
    inner join bridge on bridge.identifier_id = 'prospect_id:' || cast(mailings.prospect_id as {{ dbt.type_string() }})
    where mailings.replied_at is not null
),

meeting_signals as (
    select
        'meeting:' || engagement_id as signal_id,
        created_at as signal_at,
        'meeting:booked' as source_event,
        min(person_id) as person_id,
        cast(null as {{ dbt.type_string() }}) as account_id,
        'crm' as source,
        'for ' || cast(cast(occurred_at as date) as {{ dbt.type_string() }}) as evidence_detail
    from engagements
    where engagement_type = 'meeting'
    group by engagement_id, created_at, occurred_at
),

unioned as (
    select * from segment_signals
    union all
    select signal_id, signal_at, source_event, person_id, account_id, source, evidence_detail
    from firmographic_signals where duplicate_rank = 1
    union all
    select * from reply_signals
    union all
    select * from meeting_signals
),

final as (
    select
        unioned.signal_id,
        unioned.signal_at,
        signal_weights.signal_category,
        signal_weights.signal_type,
        unioned.person_id,
        unioned.account_id,
        unioned.source,
        signal_weights.label || case when unioned.evidence_detail is not null
            and unioned.source_event not like 'page:%' and unioned.source_event not like 'track:%'
            then ' (' || unioned.evidence_detail || ')' else '' end as evidence
    from unioned
    inner join signal_weights on signal_weights.source_event = unioned.source_event
    where unioned.signal_at is not null
)

select * from final
