{#-
    A warehouse holds one data set. The first build records the raw folder it reads in
    raw.built_from; a later build from another folder stops before any model, naming both
    folders and the ways out, instead of mixing two shops' rows in the history tables and
    scoring the new shop as drift from the old one. New files in the same folder are the same
    data set. Called by register_raw_tables (on-run-start).
-#}
{% macro check_warehouse_source(raw_dir) %}
    {%- set folder = absolute_raw_folder(raw_dir) -%}
    {%- do run_query(
        "create table if not exists raw.built_from "
        ~ "(raw_folder " ~ dbt.type_string() ~ ", first_built_at timestamp)"
    ) -%}
    {%- set recorded = run_query("select raw_folder from raw.built_from").rows -%}
    {%- if recorded | length == 0 -%}
        {%- do run_query(
            "insert into raw.built_from values (" ~ segmentation.sql_text_literal(folder)
            ~ ", current_timestamp)"
        ) -%}
    {%- elif recorded[0][0] != folder -%}
        {%- set database = target.path if target.path is defined else target.database -%}
        {{ exceptions.raise_compiler_error(
            "This warehouse (" ~ database ~ ") holds the data set built from " ~ recorded[0][0]
            ~ ", not " ~ folder ~ ". One warehouse holds one data set, so that two shops' "
            ~ "rows, model versions and drift never mix. Either build into a warehouse of "
            ~ "its own: set SEGMENTATION_DB to a new file (make run RAW=<folder> picks "
            ~ "data/warehouses/<folder name>.duckdb, so two folders of the same name share "
            ~ "one: set SEGMENTATION_DB for the second), or, to replace the old data "
            ~ "set and its model history, delete the warehouse file first (make reset-warehouse "
            ~ "deletes " ~ database ~ ")."
        ) }}
    {%- endif -%}
{% endmacro %}

{% macro absolute_raw_folder(raw_dir) %}
    {#- raw_dir as an absolute path without `.` or `..` segments or a trailing slash: a relative
        raw_path is relative to the directory dbt runs in (env PWD). A path with a colon (a
        Windows drive, a URI) is returned as given. -#}
    {%- if ':' in raw_dir -%}
        {{ return(raw_dir.rstrip('/')) }}
    {%- endif -%}
    {%- set path = raw_dir if raw_dir.startswith('/') else env_var('PWD', '.') ~ '/' ~ raw_dir -%}
    {%- set parts = [] -%}
    {%- for part in path.split('/') if part not in ('', '.') -%}
        {%- if part == '..' and parts and parts[-1] != '..' -%}
            {%- do parts.pop() -%}
        {%- elif part != '..' or not path.startswith('/') -%}
            {%- do parts.append(part) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(('/' if path.startswith('/') else '') ~ parts | join('/')) }}
{% endmacro %}
