{% call enrichment_staging('enrichment_companies') %}
        {{ json_text('record', '$.name') }} as company_name,
        cast({{ json_text('record', '$.employees') }} as integer) as employee_count,
        {{ json_text('record', '$.industry') }} as industry,
        {{ json_text('record', '$.country') }} as country,
        {{ json_text('record', '$.funding_stage') }} as funding_stage,
{% endcall %}
