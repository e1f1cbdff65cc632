{% call enrichment_staging('enrichment_signals', id_column='provider_signal_id') %}
        {{ json_text('record', '$.signal_type') }} as signal_type,
        {{ json_fragment('record', '$.detail') }} as signal_detail,
{% endcall %}
