with

source as (
    select * from {{ source('sales_engagement', 'se_prospects') }}
),

versions as (
    select
        cast({{ json_text('record', '$.id') }} as bigint) as prospect_id,
        {{ json_fragment('record', '$.emails') }} as emails,
        {{ json_text('record', '$.firstName') }} as first_name,
        {{ json_text('record', '$.lastName') }} as last_name,
        {{ json_text('record', '$.title') }} as job_title,
        {{ json_text('record', '$.company') }} as company_name,
        {{ json_text('record', '$.ownerId') }} as owner_id,
        {{ iso_to_utc(json_text('record', '$.updatedAt')) }} as updated_at,
        file as landed_from_file,
        line as landed_from_line
    from source
),

final as (
    {{ latest_version('versions', 'prospect_id', order_by='updated_at desc, landed_from_file desc, landed_from_line desc', count_as='version_count') }}
)

select * from final
