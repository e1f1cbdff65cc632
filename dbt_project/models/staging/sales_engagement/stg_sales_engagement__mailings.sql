{#- Incremental (docs/architecture.md): each run recomputes the mailings with a version landed since the last
    one, from all their versions. -#}
{{ config(**incremental_by_key('mailing_id')) }}
{% call sales_engagement_staging('se_mailings', 'mailing_id', incremental=is_incremental()) %}
        cast({{ json_text('record', '$.prospectId') }} as bigint) as prospect_id,
        cast({{ json_text('record', '$.sequenceId') }} as bigint) as sequence_id,
        cast({{ json_text('record', '$.sequenceStepId') }} as bigint) as sequence_step_id,
        lower({{ json_text('record', '$.mailboxAddress') }}) as mailbox_address,
        lower(split_part({{ json_text('record', '$.mailboxAddress') }}, '@', 2)) as sending_domain,
        {{ json_text('record', '$.ownerId') }} as owner_id,
        {{ json_text('record', '$.state') }} as state,
        {{ iso_to_utc(json_text('record', '$.deliveredAt')) }} as delivered_at,
        {{ iso_to_utc(json_text('record', '$.openedAt')) }} as opened_at,
        {{ iso_to_utc(json_text('record', '$.clickedAt')) }} as clicked_at,
        {{ iso_to_utc(json_text('record', '$.repliedAt')) }} as replied_at,
        {{ iso_to_utc(json_text('record', '$.bouncedAt')) }} as bounced_at,
        {{ iso_to_utc(json_text('record', '$.markedAsSpamAt')) }} as marked_as_spam_at,
        {{ iso_to_utc(json_text('record', '$.unsubscribedAt')) }} as unsubscribed_at,
        landed_at,
{% endcall %}
