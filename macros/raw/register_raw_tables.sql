{#-
    Runs as on-run-start, before any model: finds every table of the raw contract in
    raw_path(), checks that required tables and required columns exist, and (re)creates one
    view per table in the `raw` schema. A table is one file, <table>.parquet or <table>.csv,
    or a folder <table>/ of batch files (*.parquet and/or *.csv, any names), read as one table
    in file-name order (staging applies a later file's row of a key as an update:
    superseded_by_file in the base models). Each view exposes exactly the contract's columns
    (missing optional columns as NULL), plus the row's identity: `_source_file` and
    `_source_row` (BIGINT, the 1-based data-row number within its file).
    CSV files are read as text so identifiers keep their leading zeros; staging parses and
    validates every column. A missing optional table becomes an empty view, with a warning.
    Problems stop the build with a message naming the file and the column: a missing required
    table or column (in any batch file), a table present twice (as .parquet, .csv or folder:
    ambiguous), a batch folder without data files, a required table without data rows; so
    does a warehouse built from another raw folder (check_warehouse_source).
    Last, on DuckDB, it lists the build's files in raw.raw_files and stops when a file an
    incremental model applied has changed or is gone (macros/raw/applied_files.sql).
    The checks are the same on every engine; what reads a file is dispatched per engine
    (list_raw_files, prepare_raw_file, raw_reader, describe_select, raw_source_row).
    `segmentation check` does the same and more (encoding, delimiter, value formats) before
    dbt runs.
-#}
{% macro register_raw_tables() %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- do segmentation.check_warehouse_name() -%}
    {%- set raw_dir = segmentation.build_raw_folder(raw_path()) -%}
    {%- set listing = segmentation.list_raw_files(raw_dir) -%}
    {%- set contract = var('raw_contract') -%}
    {%- set problems = [] -%}
    {%- set statements = [] -%}
    {%- set raw_files = [] -%}
    {%- do run_query("create schema if not exists raw") -%}
    {%- for table_name, spec in contract.items() -%}
        {%- set found = segmentation.find_raw_file(raw_dir, table_name, listing) -%}
        {%- set batch_files = segmentation.find_batch_files(raw_dir, table_name, listing) -%}
        {%- set part_folder = segmentation.find_part_folder(raw_dir, table_name, listing)
            if found is none else none -%}
        {%- set csv_twin = raw_dir ~ "/" ~ table_name ~ ".csv" -%}
        {%- if found is not none and found.endswith('.parquet') and csv_twin in listing -%}
            {%- do problems.append(
                "ambiguous table '" ~ table_name ~ "': both " ~ found ~ " and " ~ csv_twin
                ~ " exist (fix: keep one file per table; delete or move the other)"
            ) -%}
        {%- elif found is not none and batch_files is not none -%}
            {%- do problems.append(
                "ambiguous table '" ~ table_name ~ "': both " ~ found ~ " and the batch folder "
                ~ raw_dir ~ "/" ~ table_name ~ "/ exist (fix: move " ~ found
                ~ " into the folder as its first batch, or remove the folder)"
            ) -%}
        {%- elif part_folder is not none -%}
            {%- do problems.append(
                part_folder ~ " is a folder of part files (as Spark or Hive write a table), not "
                ~ "one file (fix: write one file, e.g. Spark df.coalesce(1), or combine the "
                ~ "parts; `segmentation check` prints the command)"
            ) -%}
        {%- elif batch_files is not none and batch_files | length == 0 -%}
            {%- do problems.append(
                raw_dir ~ "/" ~ table_name ~ "/ is a batch folder without .parquet or .csv "
                ~ "files (fix: put the table's batch files in it, or remove the folder)"
            ) -%}
        {%- elif found is none and batch_files is none -%}
            {%- if spec.required -%}
                {%- do problems.append(
                    "missing required table '" ~ table_name ~ "': expected " ~ raw_dir ~ "/"
                    ~ table_name ~ ".parquet, " ~ raw_dir ~ "/" ~ table_name
                    ~ ".csv or a folder " ~ raw_dir ~ "/" ~ table_name ~ "/ of batch files "
                    ~ "(fix: export the table into that folder, or point raw_path / "
                    ~ "SEGMENTATION_RAW at the folder that has it)"
                ) -%}
            {%- else -%}
                {%- do exceptions.warn(
                    "optional raw table '" ~ table_name ~ "' not found in " ~ raw_dir
                    ~ ": treated as empty"
                ) -%}
                {%- set cols = [] -%}
                {%- for col in spec.columns -%}
                    {%- do cols.append("cast(null as " ~ dbt.type_string() ~ ") as " ~ col) -%}
                {%- endfor -%}
                {%- do statements.append(
                    "create or replace view raw." ~ table_name ~ " as select "
                    ~ cols | join(", ") ~ ", cast(null as " ~ dbt.type_string()
                    ~ ") as _source_file, cast(null as bigint) as _source_row where false"
                ) -%}
            {%- endif -%}
        {%- else -%}
            {%- set files = batch_files if batch_files is not none else [found] -%}
            {%- set selects = [] -%}
            {%- set state = namespace(has_rows=false, ok=true) -%}
            {%- set described = {} -%}
            {%- for path in files -%}
                {%- set name = path.split('/')[-1] -%}
                {%- if batch_files is not none and name | select('in', "'*?[]{}") | list -%}
                    {%- do problems.append(
                        path ~ ": a batch file name may not contain ' * ? [ ] { } (DuckDB reads "
                        ~ "them as a quote or a file pattern; fix: rename the file)"
                    ) -%}
                    {%- set state.ok = false -%}
                {%- else -%}
                    {%- do segmentation.prepare_raw_file(path) -%}
                    {%- set columns = segmentation.raw_file_columns(path) -%}
                    {%- set missing = spec.required_columns | reject('in', columns) | list -%}
                    {%- if missing -%}
                        {%- do problems.append(
                            path ~ ": missing required column(s) " ~ missing | join(", ")
                            ~ " (columns found: " ~ columns.values() | map(attribute='name')
                            | join(", ") ~ "; fix: add or rename the column; CSV files must "
                            ~ "be comma-separated with a header row)"
                        ) -%}
                        {%- set state.ok = false -%}
                    {%- endif -%}
                    {%- do described.update({path: columns}) -%}
                {%- endif -%}
            {%- endfor -%}
            {#- a column whose type differs between batch files is read as text in every file,
                so that one file cannot change the others' values (a float id: '123.0') -#}
            {%- set as_text = [] -%}
            {%- for col in spec.columns -%}
                {%- set types = [] -%}
                {%- for columns in described.values() if col in columns -%}
                    {%- do types.append(columns[col].type) -%}
                {%- endfor -%}
                {%- if types | unique | list | length > 1 -%}
                    {%- do as_text.append(col) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- for path in files if state.ok -%}
                {%- do raw_files.append([table_name, path]) -%}
                {%- do selects.append(
                    segmentation.raw_file_select(path, spec, described[path], as_text)
                ) -%}
                {%- if spec.required and not state.has_rows and run_query(
                    "select count(*) from (select 1 from " ~ segmentation.raw_reader(path)
                    ~ " limit 1) as first_row"
                ).rows[0][0] > 0 -%}
                    {%- set state.has_rows = true -%}
                {%- endif -%}
            {%- endfor -%}
            {%- if state.ok and spec.required and not state.has_rows -%}
                {%- do problems.append(
                    (found or raw_dir ~ "/" ~ table_name ~ "/") ~ ": required table '"
                    ~ table_name ~ "' has no data rows (only a header; fix: export the table "
                    ~ "with its rows)"
                ) -%}
            {%- elif state.ok -%}
                {%- do statements.append(
                    "create or replace view raw." ~ table_name ~ " as "
                    ~ selects | join("\nunion all\n")
                ) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error(
            "Raw input check failed for " ~ raw_dir ~ ":\n  - " ~ problems | join("\n  - ")
        ) }}
    {%- endif -%}
    {%- do segmentation.check_warehouse_source(raw_dir) -%}
    {%- for statement in statements -%}
        {%- do run_query(statement) -%}
    {%- endfor -%}
    {%- do segmentation.check_raw_file_ledger(raw_files) -%}
    {{ log("raw tables registered from " ~ raw_dir, info=true) }}
    {{ return('') }}
{% endmacro %}

{% macro check_warehouse_name() %}
    {{ return(adapter.dispatch('check_warehouse_name', 'segmentation')()) }}
{% endmacro %}

{% macro default__check_warehouse_name() %}
    {{ return('') }}
{% endmacro %}

{% macro duckdb__check_warehouse_name() %}
    {#- A DuckDB file is a catalog named after the file: one named like a schema of the
        warehouse makes `raw.<table>` ambiguous. -#}
    {%- if target.database | lower in ['raw', 'staging', 'intermediate', 'marts', 'reference'] -%}
        {{ exceptions.raise_compiler_error(
            "The warehouse file " ~ target.path ~ " is named like one of its schemas ("
            ~ target.database ~ "), which makes `" ~ target.database ~ ".<table>` ambiguous in "
            ~ "DuckDB (fix: set SEGMENTATION_DB to a file with another name, e.g. "
            ~ target.database ~ "_warehouse.duckdb)"
        ) }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}

{% macro check_raw_file_ledger(raw_files) %}
    {{ return(adapter.dispatch('check_raw_file_ledger', 'segmentation')(raw_files)) }}
{% endmacro %}

{% macro default__check_raw_file_ledger(raw_files) %}
    {#- No file ledger: every build reads every raw file (docs/scale-out.md). -#}
    {{ return('') }}
{% endmacro %}

{% macro duckdb__check_raw_file_ledger(raw_files) %}
    {%- do segmentation.record_raw_files(raw_files) -%}
    {%- do segmentation.check_applied_files() -%}
    {{ return('') }}
{% endmacro %}

{% macro build_raw_folder(raw_dir) %}
    {{ return(adapter.dispatch('build_raw_folder', 'segmentation')(raw_dir)) }}
{% endmacro %}

{% macro default__build_raw_folder(raw_dir) %}
    {#- No file ledger (every build reads every file): the folder as given. -#}
    {{ return(raw_dir) }}
{% endmacro %}

{% macro duckdb__build_raw_folder(raw_dir) %}
    {#- The folder as an absolute path, so a warehouse's files have one name whichever way a
        build is started (make run passes an absolute path; plain dbt build the var or the
        default data/raw): the file ledger and the file order compare full paths, and a file
        named two ways read as "gone". A relative path is resolved against env PWD, checked
        here to be the directory dbt runs in (a program that starts dbt in another directory
        without a shell may leave PWD stale). -#}
    {%- set folder = segmentation.absolute_raw_folder(raw_dir) -%}
    {%- if folder == raw_dir or not folder.startswith('/') -%}
        {{ return(folder) }}
    {%- endif -%}
    {%- set given = segmentation.list_raw_files(raw_dir) -%}
    {%- set resolved = segmentation.list_raw_files(folder) -%}
    {%- set given_names = given | map('replace', raw_dir, '', 1) | list -%}
    {%- set resolved_names = resolved | map('replace', folder, '', 1) | list -%}
    {%- if given_names != resolved_names -%}
        {{ exceptions.raise_compiler_error(
            "raw_path " ~ raw_dir ~ " is relative, and taken from env PWD it is " ~ folder
            ~ ", which does not hold the same files (" ~ given | length ~ " against "
            ~ resolved | length ~ "): PWD is not the directory dbt runs in (fix: give "
            ~ "raw_path or SEGMENTATION_RAW as an absolute path)"
        ) }}
    {%- endif -%}
    {{ return(folder) }}
{% endmacro %}

{% macro list_raw_files(raw_dir) %}
    {#- Every file under raw_dir, in subfolders too, as the paths the raw views record in
        _source_file, sorted. -#}
    {{ return(adapter.dispatch('list_raw_files', 'segmentation')(raw_dir)) }}
{% endmacro %}

{% macro duckdb__list_raw_files(raw_dir) %}
    {%- set files = run_query(
        "select file from glob(" ~ segmentation.sql_text_literal(raw_dir ~ "/**") ~ ") order by file"
    ) -%}
    {{ return(files.columns[0].values() | list) }}
{% endmacro %}

{% macro spark__list_raw_files(raw_dir) %}
    {#- Spark lists files with its binaryFile source (only the path is read); local paths
        come back as file: URIs, given back as plain paths. -#}
    {%- set folder = raw_dir if ':' in raw_dir else segmentation.absolute_raw_folder(raw_dir) -%}
    {%- do run_query(
        "create or replace temporary view segmentation_raw_listing using binaryFile "
        ~ "options (path " ~ segmentation.sql_text_literal(folder) ~ ", recursiveFileLookup 'true')"
    ) -%}
    {%- set files = [] -%}
    {%- for row in run_query("select path from segmentation_raw_listing").rows -%}
        {%- set path = row[0] -%}
        {%- if path.startswith('file:') and ':' not in raw_dir -%}
            {%- set path = path[5:] | replace('%20', ' ') | replace('%25', '%') -%}
            {%- set path = raw_dir ~ path[folder | length:] -%}
        {%- endif -%}
        {%- do files.append(path) -%}
    {%- endfor -%}
    {{ return(files | sort) }}
{% endmacro %}

{% macro find_batch_files(raw_dir, table_name, listing=none) %}
    {#- The files of the batch folder <raw_dir>/<table>/ (*.parquet and *.csv, in file-name
        order), an empty list when the folder holds neither, or none when there is no such
        folder (listing: list_raw_files(raw_dir), listed here when not given). -#}
    {%- set listing = listing if listing is not none else segmentation.list_raw_files(raw_dir) -%}
    {%- set folder = raw_dir ~ "/" ~ table_name ~ "/" -%}
    {%- set in_folder = [] -%}
    {%- for path in listing if path.startswith(folder) and '/' not in path[folder | length:] -%}
        {%- do in_folder.append(path) -%}
    {%- endfor -%}
    {%- if not in_folder -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set files = [] -%}
    {%- for path in in_folder if path.endswith('.parquet') or path.endswith('.csv') -%}
        {%- do files.append(path) -%}
    {%- endfor -%}
    {{ return(files | sort) }}
{% endmacro %}

{% macro find_raw_file(raw_dir, table_name, listing=none) %}
    {#- Path of <table>.parquet or <table>.csv in raw_dir (Parquet wins), or none. -#}
    {%- set listing = listing if listing is not none else segmentation.list_raw_files(raw_dir) -%}
    {%- for ext in ['parquet', 'csv'] -%}
        {%- set candidate = raw_dir ~ "/" ~ table_name ~ "." ~ ext -%}
        {%- if candidate in listing -%}
            {{ return(candidate) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{% endmacro %}

{% macro find_part_folder(raw_dir, table_name, listing=none) %}
    {#- <table>.parquet/ or <table>.csv/ when it is a folder of part files (Spark, Hive), or
        none. -#}
    {%- set listing = listing if listing is not none else segmentation.list_raw_files(raw_dir) -%}
    {%- for ext in ['parquet', 'csv'] -%}
        {%- set folder = raw_dir ~ "/" ~ table_name ~ "." ~ ext ~ "/" -%}
        {%- for path in listing if path.startswith(folder) -%}
            {{ return(folder[:-1]) }}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(none) }}
{% endmacro %}

{% macro raw_file_columns(path) %}
    {#- The columns of one raw file: lower-cased trimmed name -> {name, type}. -#}
    {%- set described = run_query(
        segmentation.describe_select("select * from " ~ segmentation.raw_reader(path))
    ) -%}
    {%- set columns = {} -%}
    {%- for row in described.rows -%}
        {%- do columns.update({row[0] | trim | lower: {'name': row[0], 'type': row[1]}}) -%}
    {%- endfor -%}
    {{ return(columns) }}
{% endmacro %}

{% macro describe_select(sql) %}
    {#- The statement that lists a query's columns (name, type first). -#}
    {{ return(adapter.dispatch('describe_select', 'segmentation')(sql)) }}
{% endmacro %}

{% macro default__describe_select(sql) %}
    {{ return("describe " ~ sql) }}
{% endmacro %}

{% macro spark__describe_select(sql) %}
    {{ return("describe query " ~ sql) }}
{% endmacro %}

{% macro raw_file_select(path, spec, columns, as_text=[]) %}
    {#- The select of one raw file as the contract's columns (matched by raw_file_columns'
        case-insensitive, trimmed names; missing optional columns as NULL; the columns in
        as_text cast to text) plus _source_file and _source_row. -#}
    {%- set cols = [] -%}
    {%- for col in spec.columns -%}
        {%- if col in columns and col in as_text -%}
            {%- do cols.append(
                "cast(" ~ adapter.quote(columns[col].name) ~ " as " ~ dbt.type_string()
                ~ ") as " ~ col
            ) -%}
        {%- elif col in columns -%}
            {%- do cols.append(adapter.quote(columns[col].name) ~ " as " ~ col) -%}
        {%- else -%}
            {%- do cols.append("cast(null as " ~ dbt.type_string() ~ ") as " ~ col) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(
        "select " ~ cols | join(", ") ~ ", " ~ segmentation.sql_text_literal(path)
        ~ " as _source_file, " ~ segmentation.raw_source_row(path) ~ " as _source_row from "
        ~ segmentation.raw_reader(path, file_row_number=true)
    ) }}
{% endmacro %}

{% macro prepare_raw_file(path) %}
    {#- Whatever an engine needs before raw_reader(path) can be read; nothing on DuckDB. -#}
    {{ return(adapter.dispatch('prepare_raw_file', 'segmentation')(path)) }}
{% endmacro %}

{% macro default__prepare_raw_file(path) %}
    {{ return('') }}
{% endmacro %}

{% macro spark__prepare_raw_file(path) %}
    {#- Spark SQL reads a CSV file with options only through a table: an external table
        raw.raw_file_<hash of the path> over the file (dropping it never deletes the file),
        made again on every build so that it has the file's current header. -#}
    {%- if path.endswith('.csv') -%}
        {%- set table = segmentation.spark_raw_file_table(path) -%}
        {%- do run_query("drop table if exists " ~ table) -%}
        {%- do run_query(
            "create table " ~ table ~ " using csv options (path "
            ~ segmentation.sql_text_literal(path) ~ ", header 'true', "
            ~ "multiLine 'true', quote '\"', escape '\"', mode 'FAILFAST', encoding 'UTF-8', "
            ~ "inferSchema 'false', enforceSchema 'false', maxCharsPerColumn '-1')"
        ) -%}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}

{% macro spark_raw_file_table(path) %}
    {{ return("raw.raw_file_" ~ local_md5(path)[:16]) }}
{% endmacro %}

{% macro raw_reader(path, file_row_number=false) %}
    {#- What reads one raw file: CSV as text (identifiers keep their leading zeros),
        comma-separated, header, UTF-8, strict; Parquet as typed.
        file_row_number: on DuckDB, Parquet also gives its 0-based row number (column
        file_row_number) for raw_source_row. -#}
    {{ return(adapter.dispatch('raw_reader', 'segmentation')(path, file_row_number)) }}
{% endmacro %}

{% macro duckdb__raw_reader(path, file_row_number=false) %}
    {#- CSV: empty strings as NULL; strict so a malformed file fails instead of losing rows;
        lines up to var raw_csv_max_line_size bytes. -#}
    {%- set quoted = "'" ~ path | replace("'", "''") ~ "'" -%}
    {%- if path.endswith('.parquet') and file_row_number -%}
        {{ return("read_parquet(" ~ quoted ~ ", file_row_number = true)") }}
    {%- elif path.endswith('.parquet') -%}
        {{ return("read_parquet(" ~ quoted ~ ")") }}
    {%- else -%}
        {{ return(
            "read_csv(" ~ quoted ~ ", header = true, delim = ',', quote = '\"', "
            ~ "escape = '\"', all_varchar = true, encoding = 'utf-8', strict_mode = true, "
            ~ "max_line_size = " ~ var('raw_csv_max_line_size') ~ ")"
        ) }}
    {%- endif -%}
{% endmacro %}

{% macro spark__raw_reader(path, file_row_number=false) %}
    {#- CSV: the external table of prepare_raw_file (every column text, FAILFAST);
        Parquet: the file itself (its row number is _metadata.row_index). -#}
    {%- if path.endswith('.parquet') -%}
        {{ return("parquet.`" ~ path | replace("`", "``") ~ "`") }}
    {%- else -%}
        {{ return(segmentation.spark_raw_file_table(path)) }}
    {%- endif -%}
{% endmacro %}

{% macro raw_source_row(path) %}
    {#- The 1-based data-row number within the file read by raw_reader(path, file_row_number=true). -#}
    {{ return(adapter.dispatch('raw_source_row', 'segmentation')(path)) }}
{% endmacro %}

{% macro duckdb__raw_source_row(path) %}
    {#- CSV: row_number() over () is a streaming window that DuckDB runs in one thread in the
        scan's order, so it is the file order (also with preserve_insertion_order = false). -#}
    {%- if path.endswith('.parquet') -%}
        {{ return("cast(file_row_number + 1 as bigint)") }}
    {%- else -%}
        {{ return("cast(row_number() over () as bigint)") }}
    {%- endif -%}
{% endmacro %}

{% macro spark__raw_source_row(path) %}
    {#- CSV: a multi-line CSV file is one partition, read in file order, so the increasing
        monotonically_increasing_id() orders its rows as the file does. -#}
    {%- if path.endswith('.parquet') -%}
        {{ return("cast(_metadata.row_index + 1 as bigint)") }}
    {%- else -%}
        {{ return("cast(row_number() over (order by monotonically_increasing_id()) as bigint)") }}
    {%- endif -%}
{% endmacro %}

{% macro report_quarantine_shares(results) -%}
    {#- on-run-end: for each quarantined_share test that warned or failed, print the raw
        table's quarantined share and its reasons with counts and example keys, so the build
        log says why (dbt itself prints only the share in basis points). Returns no SQL. -#}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- for result in results -%}
        {%- set test = result.node.test_metadata if result.node.resource_type == 'test' else none -%}
        {%- if test and test.name == 'quarantined_share' and result.status in ('warn', 'fail') -%}
            {%- set table = (result.node.attached_node or '').split('.')[-1] | replace('base_shop__', '') -%}
            {%- set rows = run_query(result.node.compiled_code).rows | sort(attribute='rows_with_reason', reverse=true) -%}
            {%- if rows | length > 0 -%}
                {%- set first = rows[0] -%}
                {%- set verdict = 'the build fails above' if result.status == 'fail' else 'warning above' -%}
                {%- set limit = var('quarantine_error_share') if result.status == 'fail' else var('quarantine_warn_share') -%}
                {{ log(
                    "Quarantine: " ~ table ~ ": " ~ first['quarantined_rows'] ~ " of " ~ first['raw_rows']
                    ~ " raw rows (" ~ '%.1f' | format(100.0 * first['quarantined_rows'] / first['raw_rows'])
                    ~ "%) are quarantined (" ~ verdict ~ " " ~ '%g' | format(100 * limit) ~ "%). Reasons:",
                    info=true
                ) }}
                {%- for row in rows[:5] %}
                    {{ log(
                        "  " ~ row['reject_reason'] ~ ": " ~ row['rows_with_reason'] ~ " rows, e.g. "
                        ~ row['first_example_key'] ~ (", " ~ row['last_example_key']
                        if row['last_example_key'] != row['first_example_key'] else ''),
                        info=true
                    ) }}
                {%- endfor %}
                {{ log(
                    "  Rows: select * from staging.base_shop__" ~ table ~ " where reject_reason is not null"
                    ~ ". Fix the export (docs/data-quality.md), "
                    ~ "or raise var quarantine_error_share / quarantine_warn_share if this is expected.",
                    info=true
                ) }}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return('') }}
{%- endmacro %}
