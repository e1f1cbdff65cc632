{#- Incremental (docs/architecture.md): each run adds the files landed since the last one; a file landed again
    (changed) replaces its rows. -#}
{{ config(**incremental_by_partition('landed_from_file')) }}
{% call event_log_staging('segment', 'segment_events', 'message_id', incremental=is_incremental()) %}
        {{ json_text('record', '$.type') }} as call_type,
        {{ json_text('record', '$.event') }} as event_name,
        {{ json_text('record', '$.anonymousId') }} as anonymous_id,
        {{ json_text('record', '$.userId') }} as user_id,
        -- identify calls carry traits.email; form events carry properties.email
        coalesce({{ json_text('record', '$.traits.email') }}, {{ json_text('record', '$.properties.email') }}) as email,
        {{ json_text('record', '$.properties.path') }} as page_path,
        {{ json_text('record', '$.groupId') }} as group_id,
        -- a group call's company: traits.domain, else Segment's reserved trait website (a URL; identity normalizes it)
        lower(coalesce({{ json_text('record', '$.traits.domain') }}, {{ json_text('record', '$.traits.website') }}))
            as group_domain,
        {{ json_text('record', '$.traits.firstName') }} as first_name,
        {{ json_text('record', '$.traits.lastName') }} as last_name,
        {{ iso_to_utc(json_text('record', '$.timestamp')) }} as occurred_at,
        {{ iso_to_utc(json_text('record', '$.receivedAt')) }} as received_at,
        {{ iso_to_utc(json_text('record', '$.sentAt')) }} as sent_at,
        {{ iso_to_utc(json_text('record', '$.originalTimestamp')) }} as original_timestamp,
        {{ json_fragment('record', '$.properties') }} as properties,
        {{ json_fragment('record', '$.traits') }} as traits,
        {{ json_fragment('record', '$.context') }} as context,
{% endcall %}
