{% call sales_engagement_staging('se_sequence_states', 'sequence_state_id') %}
        cast({{ json_text('record', '$.prospectId') }} as bigint) as prospect_id,
        cast({{ json_text('record', '$.sequenceId') }} as bigint) as sequence_id,
        {{ json_text('record', '$.state') }} as state,
        {{ iso_to_utc(json_text('record', '$.createdAt')) }} as created_at,
{% endcall %}
