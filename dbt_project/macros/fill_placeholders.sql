{#- A sentence template (a column such as seeds/next_action_sentences.sentence) with each {placeholder} it holds
    replaced by its SQL expression from `fills` ({'{name}': 'sql'}). A placeholder the template does not hold is
    ignored, so its value may be null; one it holds whose value is null makes the sentence null, as a
    concatenation would. Each expression appears twice (test and fill), not nested: the SQL grows linearly with
    the number of placeholders. Engine-neutral: replace, dbt.position, coalesce and case exist on every adapter. -#}
{% macro fill_placeholders(template, fills) -%}
    {%- set ns = namespace(filled=template, missing=[]) -%}
    {%- for placeholder, expr in fills.items() -%}
        {%- set ns.filled = "replace(" ~ ns.filled ~ ", '" ~ placeholder ~ "', coalesce(" ~ expr ~ ", ''))" -%}
        {%- do ns.missing.append("(" ~ dbt.position("'" ~ placeholder ~ "'", template) ~ " > 0 and (" ~ expr ~ ") is null)") -%}
    {%- endfor -%}
    case when {{ ns.missing | join('\n        or ') }} then null else {{ ns.filled }} end
{%- endmacro %}
