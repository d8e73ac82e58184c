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


{% macro drop_leftover_temp_tables(relation) -%}
    {#- Post-hook of the Python models: dbt-duckdb's incremental materialization of a Python
        model leaves its staging table (<model>__dbt_tmp<timestamp>) in the target schema
        after the insert, one per build. Drop every such table of this model. -#}
    {%- if execute -%}
        {%- set found = run_query(
            "select table_schema, table_name from information_schema.tables"
            ~ " where table_catalog = '" ~ relation.database ~ "'"
            ~ " and starts_with(table_name, '" ~ relation.identifier ~ "__dbt_tmp')"
        ) -%}
        {%- for row in found.rows -%}
            {%- do run_query(
                'drop table if exists "' ~ relation.database ~ '"."' ~ row[0] ~ '"."'
                ~ row[1] ~ '"'
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
