with

source as (
    select * from {{ source_or_empty('ops', 'alerts', {
        'alert_key': dbt.type_string(), 'kind': dbt.type_string(), 'created_at': type_timestamp_tz(), 'payload': type_json(), 'text': dbt.type_string(),
        'message': type_json(), 'status': dbt.type_string(), 'attempts': dbt.type_int(), 'last_error': dbt.type_string(),
        'last_attempt_at': type_timestamp_tz(), 'sent_at': type_timestamp_tz()}) }} as alerts
),

final as (
    select
        alert_key,
        kind as alert_kind,
        created_at,
        text as alert_text,
        status as delivery_status,
        attempts,
        last_error,
        sent_at
    from source
)

select * from final
