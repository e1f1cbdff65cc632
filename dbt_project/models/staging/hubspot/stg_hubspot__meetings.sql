{% call hubspot_engagement_staging('crm_meetings', 'meeting_id', at_column='meeting_at') %}
        {{ hubspot_property('hs_meeting_outcome') }} as meeting_outcome,
{% endcall %}
