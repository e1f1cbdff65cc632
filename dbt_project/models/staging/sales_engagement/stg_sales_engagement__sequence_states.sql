with

source as (
    select * from {{ source('sales_engagement', 'se_sequence_states') }}
),

versions as (
    select
        cast({{ json_text('record', '$.id') }} as bigint) as sequence_state_id,
        cast({{ json_text('record', '$.prospectId') }} as bigint) as prospect_id,
        cast({{ json_text('record', '$.sequenceId') }} as bigint) as sequence_id,
        {{ json_text('record', '$.state') }} as state,
        {{ iso_to_utc(json_text('record', '$.createdAt')) }} as created_at,
        {{ iso_to_utc(json_text('record', '$.updatedAt')) }} as updated_at,
        file as landed_from_file,
        line as landed_from_line
    from source
),

final as (
    {{ latest_version('versions', 'sequence_state_id', order_by='updated_at desc, landed_from_file desc, landed_from_line desc', count_as='version_count') }}
)

select * from final
