{% macro all_columns_except(columns) -%}
    {#- Every column of the step read, but these: `* exclude (...)` on DuckDB, `* except (...)`
        on Spark. -#}
    {{ return(adapter.dispatch('all_columns_except', 'segmentation')(columns)) }}
{%- endmacro %}

{% macro default__all_columns_except(columns) -%}
    * exclude ({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__all_columns_except(columns) -%}
    * except ({{ columns | join(', ') }})
{%- endmacro %}
