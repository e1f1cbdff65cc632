with

source as (
    select * from {{ source_or_empty('ops', 'alerts', {
        'alert_key': 'varchar', 'kind': 'varchar', 'created_at': 'timestamptz', 'payload': 'json', 'text': 'varchar',
        'message': 'json', 'status': 'varchar', 'attempts': 'integer', 'last_error': 'varchar',
        'last_attempt_at': 'timestamptz', 'sent_at': 'timestamptz'}) }} as alerts
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
