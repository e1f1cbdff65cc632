with

source as (
    select * from {{ source('sales_engagement', 'se_mailings') }}
),

versions as (
    select
        cast({{ json_text('record', '$.id') }} as bigint) as mailing_id,
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
        {{ iso_to_utc(json_text('record', '$.updatedAt')) }} as updated_at,
        landed_at,
        file as landed_from_file,
        line as landed_from_line
    from source
),

final as (
    {{ latest_version('versions', 'mailing_id', order_by='updated_at desc, landed_from_file desc, landed_from_line desc', count_as='version_count') }}
)

select * from final
