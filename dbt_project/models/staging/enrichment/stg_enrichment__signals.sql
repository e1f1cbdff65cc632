with

source as (
    select * from {{ source('enrichment', 'enrichment_signals') }}
),

final as (
    select
        provider,
        record_key as provider_signal_id,
        lower(trim({{ json_text('record', '$.domain') }})) as company_domain,
        {{ json_text('record', '$.signal_type') }} as signal_type,
        {{ json_fragment('record', '$.detail') }} as signal_detail,
        {{ iso_to_utc(json_text('record', '$.observed_at')) }} as observed_at,
        file as landed_from_file
    from source
)

select * from final
