{#- The history of which person each identifier belonged to: a row whenever an identifier is first seen or moves
    to another person_id, so fct_identity_changes can tell merges and splits between runs. Append-only and kept
    through --full-refresh (losing it would forget every past merge). -#}
{{ config(materialized='incremental', full_refresh=false, on_schema_change='append_new_columns') }}

with

resolved as (
    select identifier_id, person_id from {{ ref('int_identifiers_resolved') }}
),

{% if is_incremental() %}
previous as (
    {{ latest_version(this, 'identifier_id', 'recorded_at desc') }}
),
{% else %}
previous as (
    select cast(null as {{ dbt.type_string() }}) as identifier_id, cast(null as {{ dbt.type_string() }}) as person_id
    where false
),
{% endif %}

final as (
    select
        resolved.identifier_id,
        resolved.person_id,
        previous.person_id as previous_person_id,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as recorded_at,
        '{{ invocation_id }}' as invocation_id
    from resolved
    left join previous on previous.identifier_id = resolved.identifier_id
    where previous.person_id is distinct from resolved.person_id
)

select * from final
