{% call hubspot_engagement_staging('crm_calls', 'call_id', at_column='call_at') %}
        {{ hubspot_property('hs_call_direction') }} as call_direction,
{% endcall %}
