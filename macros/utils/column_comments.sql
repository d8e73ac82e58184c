{% macro get_column_comment_sql(column_name, column_dict) -%}
    {#- Replaces dbt-spark's macro of the same name, which writes a column and its documented
        description in the column list of `create view` when persist_docs columns is on. A
        Hive metastore keeps at most 256 characters of a column comment (COLUMNS_V2.COMMENT,
        VARCHAR(256)): a longer one fails there, the metastore retries the failing insert ten
        times two seconds apart while it holds the session's catalog lock (every other model
        and test waits), then Spark stores the view in its own, not Hive-compatible, format.
        So a description is cut to 256 characters at a word, ending in "..."; the full text
        stays in dbt's docs. Quotes and backslashes are escaped (sql_text_literal). -#}
    {%- set description = column_dict[column_name]['description']
        if column_name in column_dict else '' -%}
    {{ adapter.quote(column_name) }}
    {%- if description %} comment {{ segmentation.sql_text_literal(
        description | truncate(256, false, '...', 0)
    ) }}
    {%- endif -%}
{%- endmacro %}
