{#- Settings of the engine's session for a build (dbt_project.yml on-run-start), beside the profile's. -#}
{% macro session_settings() -%}
    {{ return(adapter.dispatch('session_settings')()) }}
{%- endmacro %}

{% macro default__session_settings() -%}
{%- endmacro %}

{#- Spark resolves a query in at most spark.sql.analyzer.maxIterations passes (100), and each unrolled round of
    spark__connected_components (macros/identity.sql) costs some: past ~9 rounds the clustering model failed
    with "Max iterations (100) reached for batch Resolution". A session setting, so dbt's build sets it here. -#}
{% macro spark__session_settings() -%}
    set spark.sql.analyzer.maxIterations = 1000
{%- endmacro %}
