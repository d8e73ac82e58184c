{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {#- Overrides dbt-spark's listagg, which warns and drops the order (collect_list keeps
        none): the segment profiles and run summaries list their items in a stated order on
        every engine. Spark 4 orders a listagg within its group. -#}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error("listagg with a limit is not used on Spark here") }}
    {%- endif -%}
    listagg({{ measure }}, {{ delimiter_text }})
    {%- if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
{%- endmacro %}
