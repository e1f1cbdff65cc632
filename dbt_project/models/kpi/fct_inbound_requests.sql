{#- Inbound requests (docs/kpis.md, grain: request_id = the Segment messageId): every Demo Requested / Contact Sales
    Submitted event resolved to a person. A request less than request_fold_hours after the person's previous
    *counted* request is folded into that one (is_counted false, counted_request_id the one it folds into); the
    chain is walked in time order (ties by message id) by a recursive CTE. -#}
with recursive

events as (
    select * from {{ ref('int_segment_events_resolved') }}
),

requests as (
    select
        message_id as request_id,
        person_id,
        account_id,
        event_name as request_type,
        occurred_at as requested_at,
        row_number() over (partition by person_id order by occurred_at nulls last, message_id nulls last) as request_number
    from events
    where call_type = 'track' and event_name in ('Demo Requested', 'Contact Sales Submitted')
        and person_id is not null
),

folded as (
    select
        person_id,
        request_number,
        request_id,
        requested_at,
        true as is_counted,
        request_id as counted_request_id,
        requested_at as counted_at
    from requests
    where request_number = 1
    union all
    select
        requests.person_id,
        requests.request_number,
        requests.request_id,
        requests.requested_at,
        requests.requested_at >= {{ dbt.dateadd('hour', var('request_fold_hours'), 'folded.counted_at') }},
        case when requests.requested_at >= {{ dbt.dateadd('hour', var('request_fold_hours'), 'folded.counted_at') }}
             then requests.request_id else folded.counted_request_id end,
        case when requests.requested_at >= {{ dbt.dateadd('hour', var('request_fold_hours'), 'folded.counted_at') }}
             then requests.requested_at else folded.counted_at end
    from folded
    inner join requests
        on requests.person_id = folded.person_id and requests.request_number = folded.request_number + 1
),

final as (
    select
        requests.request_id,
        requests.person_id,
        requests.account_id,
        requests.request_type,
        requests.requested_at,
        folded.is_counted,
        folded.counted_request_id
    from requests
    inner join folded on folded.request_id = requests.request_id
)

select * from final
