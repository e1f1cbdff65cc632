with

source as (
    select * from {{ source('hubspot', 'crm_contacts') }}
),

versions as (
    select
        {{ json_text('record', '$.id') }} as contact_id,
        {{ json_text('record', '$.properties.email') }} as email,
        {{ json_text('record', '$.properties.firstname') }} as first_name,
        {{ json_text('record', '$.properties.lastname') }} as last_name,
        {{ json_text('record', '$.properties.jobtitle') }} as job_title,
        {{ json_text('record', '$.properties.company') }} as company_name,
        {{ json_text('record', '$.properties.phone') }} as phone,
        {{ json_text('record', '$.properties.country') }} as country,
        {{ json_text('record', '$.properties.lifecyclestage') }} as lifecycle_stage,
        {{ json_text('record', '$.properties.hs_lead_status') }} as lead_status,
        {{ json_text('record', '$.properties.hubspot_owner_id') }} as owner_id,
        coalesce(lower({{ json_text('record', '$.properties.hs_email_optout') }}) = 'true', false) as is_email_opted_out,
        {{ json_text('record', '$.properties.hs_merged_object_ids') }} as merged_contact_ids,
        -- what this project writes back (docs/sync.md); empty until the first sync
        {{ json_text('record', '$.properties.revops_stage') }} as revops_stage,
        {{ json_text('record', '$.properties.revops_last_action') }} as revops_last_action,
        {{ json_text('record', '$.properties.revops_next_action') }} as revops_next_action,
        {{ json_text('record', '$.properties.revops_next_action_date') }} as revops_next_action_date,
        {{ iso_to_utc(json_text('record', '$.properties.createdate')) }} as created_at,
        {{ iso_to_utc(json_text('record', '$.updatedAt')) }} as updated_at,
        archived as is_archived,
        landed_at
    from source
),

final as (
    {{ latest_version('versions', 'contact_id') }}
)

select * from final
