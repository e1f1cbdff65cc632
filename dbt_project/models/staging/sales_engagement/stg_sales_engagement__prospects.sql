{% call sales_engagement_staging('se_prospects', 'prospect_id') %}
        {{ json_fragment('record', '$.emails') }} as emails,
        {{ json_text('record', '$.firstName') }} as first_name,
        {{ json_text('record', '$.lastName') }} as last_name,
        {{ json_text('record', '$.title') }} as job_title,
        {{ json_text('record', '$.company') }} as company_name,
        {{ json_text('record', '$.ownerId') }} as owner_id,
{% endcall %}
