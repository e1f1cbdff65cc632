{#- The staging models of the landed sources (docs/landing.md): landing appends each record it receives, as JSON in
    `record`, beside its landing columns; a CRM object or a sales-engagement record lands again each time it is
    re-extracted or re-exported, and staging keeps its latest version. The records of one source share that
    envelope (id, update time, landing columns), so the envelope and the versioning are written here once and a
    model lists only the columns its records add, in a call block: the block's lines go into the select list after
    the id. -#}

{#- An event log (source `source_name`, table `table`: ESP events, Segment calls): every event once, its delivery
    key (record_key) as `id_column`, the caller's columns, the file it landed from and landed_at. `incremental`
    (the model's is_incremental()): only the files landed since the last run. The record is parsed once for all
    the caller's reads of it (json_parsed_once, macros/json_and_time.sql). -#}
{% macro event_log_staging(source_name, table, id_column, incremental=false) -%}
{%- set reads = json_parsed_once('record', caller() | trim) -%}
with

source as (
    select * from {{ source(source_name, table) }}
    {%- if incremental %}
    -- incremental (macros/incremental.sql): the files landed since the last run, whole
    where {{ landed_after_high_water_mark() }}
    {%- endif %}
),

parsed as (
    select *{% for column in reads.parsed %}, {{ column }}{% endfor %}
    from source
),

final as (
    select
        record_key as {{ id_column }},
        {{ reads.select_list }}
        file as landed_from_file,
        landed_at
    from parsed
)

select * from final
{%- endmacro %}

{#- A property of a HubSpot CRM object (record.properties.<name>), as text. -#}
{% macro hubspot_property(name) -%}
    {{ json_text('record', '$.properties.' ~ name) }}
{%- endmacro %}

{#- A HubSpot CRM object (source hubspot, table `table`): its id as `id_column`, the caller's columns, updatedAt,
    archived (is_archived; owners have none) and landed_at, latest version by update then landing time. -#}
{% macro hubspot_object_staging(table, id_column, archived=true) -%}
with

source as (
    select * from {{ source('hubspot', table) }}
),

versions as (
    select
        {{ json_text('record', '$.id') }} as {{ id_column }},
        {{ caller() | trim }}
        {{ iso_to_utc(json_text('record', '$.updatedAt')) }} as updated_at,
        {%- if archived %}
        archived as is_archived,
        {%- endif %}
        landed_at
    from source
),

final as (
    {{ latest_version('versions', id_column) }}
)

select * from final
{%- endmacro %}

{#- A HubSpot engagement (calls, meetings): a HubSpot object that happens at hs_timestamp (as `at_column`), has an
    owner, and was logged at createdAt; the caller's columns come between the owner and the log time. -#}
{% macro hubspot_engagement_staging(table, id_column, at_column) -%}
    {%- set own_columns = caller() | trim -%}
    {%- call hubspot_object_staging(table, id_column) %}
        {{ iso_to_utc(hubspot_property('hs_timestamp')) }} as {{ at_column }},
        {{ hubspot_property('hubspot_owner_id') }} as owner_id,
        {{ own_columns }}
        -- when it was logged (a meeting: when it was booked), which is not when it takes place
        {{ iso_to_utc(json_text('record', '$.createdAt')) }} as created_at,
    {%- endcall %}
{%- endmacro %}

{#- A sales-engagement export (source sales_engagement, table `table`): its numeric id as `id_column`, the caller's
    columns, updatedAt and the file and line it landed from; latest version by update time, then the later export
    file and line, with version_count (how many versions were landed). `incremental` (the model's
    is_incremental()): only the records with a version landed since the last run. The record is parsed once for
    all the columns read from it (json_parsed_once, macros/json_and_time.sql). -#}
{% macro sales_engagement_staging(table, id_column, incremental=false) -%}
{%- set columns -%}
        cast({{ json_text('record', '$.id') }} as bigint) as {{ id_column }},
        {{ caller() | trim }}
        {{ iso_to_utc(json_text('record', '$.updatedAt')) }} as updated_at,
{%- endset -%}
{%- set reads = json_parsed_once('record', columns) -%}
with

source as (
    select * from {{ source('sales_engagement', table) }}
),

{%- if incremental %}

changed as (
    -- incremental (macros/incremental.sql): every version of each record with a version landed since the last run
    select cast({{ json_text('record', '$.id') }} as bigint) as record_id
    from source
    where {{ landed_after_high_water_mark() }}
),
{%- endif %}

parsed as (
    select *{% for column in reads.parsed %}, {{ column }}{% endfor %}
    from source
    {%- if incremental %}
    where cast({{ json_text('record', '$.id') }} as bigint) in (select record_id from changed)
    {%- endif %}
),

versions as (
    select
        {{ reads.select_list }}
        file as landed_from_file,
        line as landed_from_line
    from parsed
),

final as (
    {{ latest_version('versions', id_column, count_as='version_count',
                      order_by='updated_at desc, landed_from_file desc, landed_from_line desc') }}
)

select * from final
{%- endmacro %}

{#- An enrichment provider's records (source enrichment, table `table`): the provider, its record key as
    `id_column` where the records have one, the company's domain (lower-cased, trimmed), the caller's columns, when
    the provider observed it and the file it landed from. -#}
{% macro enrichment_staging(table, id_column=none) -%}
with

source as (
    select * from {{ source('enrichment', table) }}
),

final as (
    select
        provider,
        {%- if id_column %}
        record_key as {{ id_column }},
        {%- endif %}
        lower(trim({{ json_text('record', '$.domain') }})) as company_domain,
        {{ caller() | trim }}
        {{ iso_to_utc(json_text('record', '$.observed_at')) }} as observed_at,
        file as landed_from_file
    from source
)

select * from final
{%- endmacro %}
