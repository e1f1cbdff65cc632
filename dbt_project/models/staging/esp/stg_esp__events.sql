{#- Incremental (docs/architecture.md): each run adds the files landed since the last one; a file landed again
    (changed) replaces its rows. -#}
{{ config(**incremental_by_partition('landed_from_file')) }}
{% call event_log_staging('esp', 'esp_events', 'esp_event_id', incremental=is_incremental()) %}
        {{ json_text('record', '$.email') }} as recipient_email,
        {{ json_text('record', '$.event') }} as event_type,
        {{ unix_seconds_to_utc("cast(" ~ json_text('record', '$.timestamp') ~ " as bigint)") }} as event_at,
        {{ json_text('record', '$.sg_message_id') }} as esp_message_id,
        {{ json_text('record', '$.campaign_id') }} as campaign_id,
        lower({{ json_text('record', '$.sending_domain') }}) as sending_domain,
        {{ json_text('record', '$.type') }} as bounce_type,
        {{ json_text('record', '$.reason') }} as bounce_reason,
        {{ json_text('record', '$.status') }} as bounce_status,
        {{ json_fragment('record', '$.category') }} as categories,
{% endcall %}
