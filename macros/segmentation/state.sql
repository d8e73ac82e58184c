{% macro relation_exists(schema, identifier) -%}
    {#- True when the table exists in the target database (state from an earlier build). -#}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set found = adapter.get_relation(
        database=target.database, schema=schema, identifier=identifier
    ) -%}
    {{ return(found is not none) }}
{%- endmacro %}
