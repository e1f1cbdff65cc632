with

source as (
    select * from {{ source('hubspot', 'crm_calls') }}
),

versions as (
    select
        {{ json_text('record', '$.id') }} as call_id,
        {{ iso_to_utc(json_text('record', '$.properties.hs_timestamp')) }} as call_at,
        {{ json_text('record', '$.properties.hubspot_owner_id') }} as owner_id,
        {{ json_text('record', '$.properties.hs_call_direction') }} as call_direction,
        -- when it was logged (a meeting: when it was booked), which is not when it takes place
        {{ iso_to_utc(json_text('record', '$.createdAt')) }} as created_at,
        {{ iso_to_utc(json_text('record', '$.updatedAt')) }} as updated_at,
        archived as is_archived,
        landed_at
    from source
),

final as (
    {{ latest_version('versions', 'call_id') }}
)

select * from final
