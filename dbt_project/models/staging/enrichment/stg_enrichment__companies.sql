with

source as (
    select * from {{ source('enrichment', 'enrichment_companies') }}
),

final as (
    select
        provider,
        lower(trim({{ json_text('record', '$.domain') }})) as company_domain,
        {{ json_text('record', '$.name') }} as company_name,
        cast({{ json_text('record', '$.employees') }} as integer) as employee_count,
        {{ json_text('record', '$.industry') }} as industry,
        {{ json_text('record', '$.country') }} as country,
        {{ json_text('record', '$.funding_stage') }} as funding_stage,
        {{ iso_to_utc(json_text('record', '$.observed_at')) }} as observed_at,
        file as landed_from_file
    from source
)

select * from final
