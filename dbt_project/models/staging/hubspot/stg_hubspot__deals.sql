with

source as (
    select * from {{ source('hubspot', 'crm_deals') }}
),

versions as (
    select
        {{ json_text('record', '$.id') }} as deal_id,
        {{ json_text('record', '$.properties.dealname') }} as deal_name,
        cast(nullif({{ json_text('record', '$.properties.amount') }}, '') as double) as amount,
        {{ json_text('record', '$.properties.dealstage') }} as deal_stage,
        {{ json_text('record', '$.properties.pipeline') }} as pipeline,
        {{ iso_to_utc(json_text('record', '$.properties.closedate')) }} as close_date,
        {{ iso_to_utc(json_text('record', '$.properties.createdate')) }} as created_at,
        {{ json_text('record', '$.properties.hubspot_owner_id') }} as owner_id,
        {{ iso_to_utc(json_text('record', '$.updatedAt')) }} as updated_at,
        archived as is_archived,
        landed_at
    from source
),

final as (
    {{ latest_version('versions', 'deal_id') }}
)

select * from final
