{% call hubspot_object_staging('crm_deals', 'deal_id') %}
        {{ hubspot_property('dealname') }} as deal_name,
        cast(nullif({{ hubspot_property('amount') }}, '') as double) as amount,
        {{ hubspot_property('dealstage') }} as deal_stage,
        {{ hubspot_property('pipeline') }} as pipeline,
        {{ iso_to_utc(hubspot_property('closedate')) }} as close_date,
        {{ iso_to_utc(hubspot_property('createdate')) }} as created_at,
        {{ hubspot_property('hubspot_owner_id') }} as owner_id,
{% endcall %}
