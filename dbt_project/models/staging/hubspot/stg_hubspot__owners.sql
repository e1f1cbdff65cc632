{#- Owners are not CRM objects with properties: their fields sit at the top of the record, and they are not
    archived. -#}
{% call hubspot_object_staging('crm_owners', 'owner_id', archived=false) %}
        lower({{ json_text('record', '$.email') }}) as owner_email,
        {{ json_text('record', '$.firstName') }} as first_name,
        {{ json_text('record', '$.lastName') }} as last_name,
        {{ primary_team_name('record') }} as primary_team,
{% endcall %}
