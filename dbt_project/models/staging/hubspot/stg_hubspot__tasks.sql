{% call hubspot_engagement_staging('crm_tasks', 'task_id', at_column='task_at') %}
        {{ hubspot_property('hs_task_status') }} as task_status,
        {{ hubspot_property('hs_task_subject') }} as task_subject,
        {{ hubspot_property('hs_task_priority') }} as task_priority,
        {{ iso_to_utc(hubspot_property('hs_task_completion_date')) }} as completed_at,
        -- the warehouse's key of a task the reverse ETL created (revops_action_key); null on a task a person created
        {{ hubspot_property('revops_action_key') }} as action_key,
{% endcall %}
