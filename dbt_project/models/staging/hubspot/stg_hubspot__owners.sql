with

source as (
    select * from {{ source('hubspot', 'crm_owners') }}
),

versions as (
    select
        {{ json_text('record', '$.id') }} as owner_id,
        lower({{ json_text('record', '$.email') }}) as owner_email,
        {{ json_text('record', '$.firstName') }} as first_name,
        {{ json_text('record', '$.lastName') }} as last_name,
        {{ primary_team_name('record') }} as primary_team,
        {{ iso_to_utc(json_text('record', '$.updatedAt')) }} as updated_at,
        landed_at
    from source
),

final as (
    {{ latest_version('versions', 'owner_id') }}
)

select * from final
