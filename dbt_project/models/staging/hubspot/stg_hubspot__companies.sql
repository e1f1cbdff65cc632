{% call hubspot_object_staging('crm_companies', 'company_id') %}
        {{ hubspot_property('name') }} as company_name,
        lower(trim({{ hubspot_property('domain') }})) as company_domain,
        {{ hubspot_property('industry') }} as industry,
        cast(nullif({{ hubspot_property('numberofemployees') }}, '') as integer) as employee_count,
        cast(nullif({{ hubspot_property('annualrevenue') }}, '') as double) as annual_revenue,
        {{ hubspot_property('country') }} as country,
        {{ hubspot_property('lifecyclestage') }} as lifecycle_stage,
        {{ hubspot_property('hubspot_owner_id') }} as owner_id,
        {{ iso_to_utc(hubspot_property('createdate')) }} as created_at,
{% endcall %}
