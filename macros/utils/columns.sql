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

{% macro materialized_step() -%}
    {#- Written between `name as` and the `(` of a step that DuckDB should compute once and
        keep (MATERIALIZED); nothing on engines without the keyword. -#}
    {{ return(adapter.dispatch('materialized_step', 'segmentation')()) }}
{%- endmacro %}

{% macro default__materialized_step() -%}
{%- endmacro %}

{% macro duckdb__materialized_step() -%}
    materialized
{%- endmacro %}

{% macro recursive_union() -%}
    {#- The set operator of a recursive step that must stop when no new row comes: UNION,
        which drops the rows found before. Spark allows only UNION ALL in a recursive step;
        there it is used only where the seed is empty (int_customers_changed: Spark keeps
        no file ledger, so no customer is singled out), and Spark stops a recursion after
        100 steps with an error, never silently. -#}
    {{ return(adapter.dispatch('recursive_union', 'segmentation')()) }}
{%- endmacro %}

{% macro default__recursive_union() -%}
    union
{%- endmacro %}

{% macro spark__recursive_union() -%}
    union all
{%- endmacro %}
