{#-
    The file ledger behind the incremental models. register_raw_tables lists every raw file
    of this build in raw.raw_files (table, path as in _source_file, size, modification time;
    DuckDB's read_blob reads only the file's metadata). An incremental model records the files
    it has applied in raw.applied_raw_files (post-hook record_applied_files) and, on its next
    build, applies only the files that are not in its ledger. A file it applied that has since
    changed or disappeared stops the build (check_applied_files): what it contributed cannot be
    taken back, so only a rebuild from all files (`--full-refresh`) gives the right answer.
-#}

{% macro record_raw_files(files) %}
    {#- on-run-start (register_raw_tables): (re)creates raw.raw_files from files, a list of
        [table name, path] of this build's raw files. -#}
    {%- set selects = [] -%}
    {%- for table_name, path in files -%}
        {%- set quoted = "'" ~ path | replace("'", "''") ~ "'" -%}
        {%- do selects.append(
            "select '" ~ table_name ~ "' as table_name, " ~ quoted ~ " as source_file, "
            ~ "size, cast(last_modified as timestamp) as modified_at from read_blob(" ~ quoted
            ~ ")"
        ) -%}
    {%- endfor -%}
    {%- if not selects -%}
        {%- do selects.append(
            "select cast(null as varchar) as table_name, cast(null as varchar) as source_file, "
            ~ "cast(null as bigint) as size, cast(null as timestamp) as modified_at where false"
        ) -%}
    {%- endif -%}
    {%- do run_query(
        "create or replace table raw.raw_files as " ~ selects | join("\nunion all\n")
    ) -%}
{% endmacro %}

{% macro check_applied_files() %}
    {#- on-run-start, after record_raw_files: creates the ledger on the first build, and stops
        when a file an incremental model applied has changed (size or modification time) or
        is gone, unless this is a --full-refresh (which rebuilds those models from all files
        and rewrites their ledger). -#}
    {%- do run_query(
        "create table if not exists raw.applied_raw_files (model_name varchar, "
        ~ "table_name varchar, source_file varchar, size bigint, modified_at timestamp, "
        ~ "applied_at timestamp, future_cutoff timestamp, fingerprint varchar)"
    ) -%}
    {%- for column in ['future_cutoff timestamp', 'fingerprint varchar'] -%}
        {%- do run_query(
            "alter table raw.applied_raw_files add column if not exists " ~ column
        ) -%}
    {%- endfor -%}
    {%- if flags.FULL_REFRESH -%}
        {{ return('') }}
    {%- endif -%}
    {%- set stale = run_query(
        "select applied.source_file, string_agg(distinct applied.model_name, ', ' "
        ~ "order by applied.model_name), bool_or(current_files.source_file is null) "
        ~ "from raw.applied_raw_files as applied left join raw.raw_files as current_files "
        ~ "on applied.source_file = current_files.source_file "
        ~ "where current_files.source_file is null or current_files.size != applied.size "
        ~ "or current_files.modified_at != applied.modified_at "
        ~ "group by applied.source_file order by applied.source_file"
    ).rows -%}
    {%- if stale | length > 0 -%}
        {%- set lines = [] -%}
        {%- for row in stale -%}
            {%- do lines.append(
                row[0] ~ (" is gone" if row[2] else " has changed (size or modification time)")
                ~ " since " ~ row[1] ~ " applied it"
            ) -%}
        {%- endfor -%}
        {{ exceptions.raise_compiler_error(
            "Raw files already applied by an incremental build have changed:\n  - "
            ~ lines | join("\n  - ") ~ "\nAn incremental build adds only new files and "
            ~ "cannot take back what a file contributed. Rebuild from all files: "
            ~ "`dbt build --full-refresh` (make run FULL_REFRESH=1); the fitted models and "
            ~ "the build history are kept. To add data, put it in a new file instead."
        ) }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}

{% macro has_applied_files(model_name) %}
    {#- True when the ledger holds files applied by model_name and this is not a
        --full-refresh: the model may then apply only the new files. False at parse time. -#}
    {%- if not execute or flags.FULL_REFRESH
        or not segmentation.relation_exists('raw', 'applied_raw_files') -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(run_query(
        "select count(*) from raw.applied_raw_files where model_name = '" ~ model_name ~ "'"
    ).rows[0][0] > 0) }}
{% endmacro %}

{% macro unapplied_raw_files(model_name, table_name) %}
    {#- The paths of table_name's raw files that model_name has not applied, in file-name
        order (a list; empty at parse time). -#}
    {%- if not execute or not segmentation.relation_exists('raw', 'applied_raw_files') -%}
        {{ return([]) }}
    {%- endif -%}
    {{ return(run_query(
        "select source_file from raw.raw_files where table_name = '" ~ table_name ~ "' "
        ~ "and source_file not in (select source_file from raw.applied_raw_files "
        ~ "where model_name = '" ~ model_name ~ "') order by source_file"
    ).columns[0].values() | list) }}
{% endmacro %}

{% macro record_applied_files() %}
    {#- post-hook of an incremental model: its ledger becomes this build's raw files (it has
        applied all of them), with this build's future cutoff (rows dated after it were
        quarantined) and the fingerprint of the code and vars it was built with. Not with
        --empty, which applies none. -#}
    {%- if flags.EMPTY -%}
        {{ return('select 1') }}
    {%- endif -%}
    delete from raw.applied_raw_files where model_name = '{{ this.identifier }}';
    insert into raw.applied_raw_files
    select
        '{{ this.identifier }}',
        table_name,
        source_file,
        size,
        modified_at,
        current_timestamp,
        {{ future_cutoff() }},
        '{{ daily_activity_fingerprint() }}'
    from raw.raw_files
{% endmacro %}

{% macro daily_activity_fingerprint() %}
    {#- A hash of what the daily activity's rows depend on besides the raw files: the code of
        the models from the raw views to it, and the vars staging reads. When it differs
        from the ledger's, the daily activity rebuilds every customer. Project macros are not
        part of it (docs/incremental.md: a changed macro takes --full-refresh). -#}
    {%- set names = [
        'int_order_lines', 'int_customer_daily_activity', 'int_customers_changed',
    ] -%}
    {%- set parts = [] -%}
    {#- graph.nodes is absent where dbt is only rendered (sqlfluff's templater) -#}
    {%- for node in graph.get('nodes', {}).values() | sort(attribute='unique_id')
        if node.resource_type == 'model' and (
            node.name in names or node.name.startswith('stg_shop__')
            or node.name.startswith('base_shop__')
        ) -%}
        {%- do parts.append(node.name ~ "\n" ~ node.raw_code) -%}
    {%- endfor -%}
    {%- for name in [
        'raw_contract', 'raw_null_tokens', 'raw_trim_code_points', 'raw_timestamp_formats',
        'raw_csv_max_line_size', 'order_statuses', 'max_line_value', 'as_of',
    ] -%}
        {%- do parts.append(name ~ "=" ~ tojson(var(name, none))) -%}
    {%- endfor -%}
    {%- do parts.append("sessions=" ~ segmentation_uses_sessions()) -%}
    {{ return(local_md5(parts | join("\n"))) }}
{% endmacro %}

{% macro require_parents_selected(parent_names) %}
    {#- Stops the build when the model would apply raw files that its parents were not
        rebuilt from in this invocation (dbt build --select int_customer_daily_activity
        alone): it would record them as applied without having read them. -#}
    {%- if not execute or flags.EMPTY or selected_resources is not defined
        or model.resource_type != 'model'
        or not segmentation.relation_exists('raw', 'applied_raw_files') -%}
        {{ return('') }}
    {%- endif -%}
    {%- set missing = [] -%}
    {%- for name in parent_names -%}
        {%- if 'model.' ~ project_name ~ '.' ~ name not in selected_resources -%}
            {%- do missing.append(name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if missing and run_query(
        "select count(*) from raw.raw_files where source_file not in (select source_file "
        ~ "from raw.applied_raw_files where model_name = '" ~ this.identifier ~ "')"
    ).rows[0][0] > 0 -%}
        {{ exceptions.raise_compiler_error(
            this.identifier ~ " has raw files to apply, but this build does not rebuild "
            ~ missing | join(", ") ~ " from them. Build it with its parents: dbt build "
            ~ "--select +" ~ this.identifier
        ) }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}

{% macro in_files(column, paths) -%}
    {#- SQL condition: column is one of the file paths (false for none, so that DuckDB skips
        the read). -#}
    {%- if paths | length == 0 -%}
        false
    {%- else -%}
        {{ column }} in (
            {%- for path in paths %}'{{ path | replace("'", "''") }}'{{ ", " if not loop.last }}{% endfor -%}
        )
    {%- endif -%}
{%- endmacro %}

{% macro changed_customers_only() %}
    {#- For int_customer_daily_activity, at run time: true when this build recomputes only the
        changed customers (int_customers_changed). False on the first build, with
        --full-refresh, without a ledger (a table built before the ledger existed), when the
        ledger's fingerprint differs (daily_activity_fingerprint: the models' code or the
        staging vars changed), and when the table has another set of web-session columns than
        the model now computes (a session feature added or removed): the model then rebuilds
        every customer. -#}
    {%- if not execute or not is_incremental() or not has_applied_files(this.identifier) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set recorded = run_query(
        "select distinct fingerprint from raw.applied_raw_files where model_name = '"
        ~ this.identifier ~ "'"
    ).columns[0].values() | list -%}
    {%- if recorded != [daily_activity_fingerprint()] -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name')
        | map('lower') | list -%}
    {{ return(('session_count' in columns) == segmentation_uses_sessions()) }}
{% endmacro %}

{% macro delete_changed_customers(changed_customers) %}
    {#- pre-hook of int_customer_daily_activity: deletes the rows of the customers in
        changed_customers before the model appends them again, or every row when the model
        rebuilds all customers (changed_customers_only is false). Nothing on the first build
        and with --full-refresh, which create the table anew. -#}
    {%- if not is_incremental() or flags.EMPTY -%}
        {{ return('select 1') }}
    {%- endif -%}
    delete from {{ this }}
    {%- if changed_customers_only() %}
    where customer_id in (select customer_id from {{ changed_customers }})
    {%- endif %}
{% endmacro %}
