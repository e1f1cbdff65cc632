with

source as (
    select * from {{ source('hubspot', 'crm_companies') }}
),

versions as (
    select
        {{ json_text('record', '$.id') }} as company_id,
        {{ json_text('record', '$.properties.name') }} as company_name,
        lower(trim({{ json_text('record', '$.properties.domain') }})) as company_domain,
        {{ json_text('record', '$.properties.industry') }} as industry,
        cast(nullif({{ json_text('record', '$.properties.numberofemployees') }}, '') as integer) as employee_count,
        cast(nullif({{ json_text('record', '$.properties.annualrevenue') }}, '') as double) as annual_revenue,
        {{ json_text('record', '$.properties.country') }} as country,
        {{ json_text('record', '$.properties.lifecyclestage') }} as lifecycle_stage,
        {{ json_text('record', '$.properties.hubspot_owner_id') }} as owner_id,
        {{ iso_to_utc(json_text('record', '$.properties.createdate')) }} as created_at,
        {{ iso_to_utc(json_text('record', '$.updatedAt')) }} as updated_at,
        archived as is_archived,
        landed_at
    from source
),

final as (
    {{ latest_version('versions', 'company_id') }}
)

select * from final
