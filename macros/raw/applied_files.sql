{#-
    The file ledger behind the incremental models. register_raw_tables lists every raw file
    of this build in raw.raw_files (table, path as in _source_file, size, modification time;
    DuckDB's read_blob reads only the file's metadata). An incremental model records the files
    it has applied in raw.applied_raw_files (post-hook record_applied_files) and, on its next
    build, applies only the files that are not in its ledger. A file it applied that has since
    changed or disappeared stops the build (check_applied_files): what it contributed cannot be
    taken back, so only a rebuild from all files (`--full-refresh`) gives the right answer.
-#}

{% macro keeps_file_ledger() %}
    {#- True on the engines where the models named in docs/incremental.md are incremental
        and keep the ledger: DuckDB. Elsewhere (Spark on Parquet: no delete) they are tables
        that every build makes from every raw file (materialized_incrementally). -#}
    {{ return(adapter.dispatch('keeps_file_ledger', 'segmentation')()) }}
{% endmacro %}

{% macro default__keeps_file_ledger() %}
    {{ return(false) }}
{% endmacro %}

{% macro duckdb__keeps_file_ledger() %}
    {{ return(true) }}
{% endmacro %}

{% macro materialized_incrementally() %}
    {#- The materialization of the incremental models: incremental where the engine keeps
        the file ledger, else table (a full build every time). dbt_project.yml cannot call a
        macro, so the base models there test target.type the same way. -#}
    {{ return('incremental' if segmentation.keeps_file_ledger() else 'table') }}
{% endmacro %}

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
        ~ "applied_at timestamp, future_cutoff timestamp, fingerprint varchar, "
        ~ "snapshot_dates varchar)"
    ) -%}
    {#- which customers each incremental model of customer rows rewrote at its latest build
        (record_rewritten_customers): every one, or those of int_customers_changed -#}
    {%- do run_query(
        "create table if not exists raw.rewritten_customers (model_name varchar, "
        ~ "every_customer boolean, built_at timestamp)"
    ) -%}
    {%- for column in [
        'future_cutoff timestamp', 'fingerprint varchar', 'snapshot_dates varchar',
    ] -%}
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

{% macro ledger_models() %}
    {#- The incremental models that recompute the customers int_customers_changed lists (every
        incremental model that reads it), in name order; each keeps its own ledger. -#}
    {%- set names = [] -%}
    {%- for node in graph.get('nodes', {}).values() | sort(attribute='name')
        if node.resource_type == 'model' and node.config.materialized == 'incremental'
        and 'model.' ~ project_name ~ '.int_customers_changed' in node.depends_on.nodes -%}
        {%- do names.append(node.name) -%}
    {%- endfor -%}
    {{ return(names) }}
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

{% macro unapplied_raw_files(model_names, table_name) %}
    {#- The paths of table_name's raw files that at least one of model_names has not applied,
        in file-name order (a list; empty at parse time). -#}
    {%- if not execute or not segmentation.relation_exists('raw', 'applied_raw_files') -%}
        {{ return([]) }}
    {%- endif -%}
    {{ return(run_query(
        "select source_file from raw.raw_files where table_name = '" ~ table_name ~ "' "
        ~ "and source_file not in (select source_file from raw.applied_raw_files "
        ~ "where model_name in ('" ~ model_names | join("', '") ~ "') group by source_file "
        ~ "having count(distinct model_name) = " ~ model_names | length ~ ") "
        ~ "order by source_file"
    ).columns[0].values() | list) }}
{% endmacro %}

{% macro record_applied_files(snapshot_dates=none, snapshot_set='month_end') %}
    {#- post-hook of an incremental model: its ledger becomes this build's raw files (it has
        applied all of them), with this build's future cutoff (rows dated after it were
        quarantined), the fingerprint of the code and vars it was built with and, for a model
        of snapshots, the dates of one snapshot set (snapshot_dates: int_snapshot_dates;
        snapshot_set: its month ends, or the analysis date for `current`). Not with --empty,
        which applies none. -#}
    {%- if flags.EMPTY or not segmentation.keeps_file_ledger() -%}
        {{ return('select 1') }}
    {%- endif -%}
    {{ ledger_replacement(
        this.identifier,
        incremental_fingerprint(model.unique_id),
        month_end_dates_sql(snapshot_dates, snapshot_set) if snapshot_dates is not none
        else 'null'
    ) }}
{% endmacro %}

{% macro ledger_replacement(model_name, fingerprint, snapshot_dates_sql) %}
    {#- SQL statements of record_applied_files: model_name's ledger rows become this build's
        raw files, with its future cutoff, the fingerprint (a text) and snapshot_dates_sql (a
        SQL text expression, or null). -#}
    delete from raw.applied_raw_files
    where model_name = '{{ model_name }}';
    insert into raw.applied_raw_files (
        model_name, table_name, source_file, size, modified_at, applied_at, future_cutoff,
        fingerprint, snapshot_dates
    )
    select
        '{{ model_name }}' as model_name,
        table_name,
        source_file,
        size,
        modified_at,
        current_timestamp as applied_at,
        {{ future_cutoff() }} as future_cutoff,
        '{{ fingerprint }}' as fingerprint,
        {{ snapshot_dates_sql }} as snapshot_dates
    from raw.raw_files
{% endmacro %}

{% macro month_end_dates_sql(snapshot_dates, snapshot_set='month_end') -%}
    {#- SQL: the snapshot dates of one set of snapshot_dates (int_snapshot_dates; by default
        the month ends) as one text. -#}
    (
        select string_agg(cast(as_of_date as varchar), ',' order by as_of_date)
        from {{ snapshot_dates }}
        where snapshot_set = '{{ snapshot_set }}'
    )
{%- endmacro %}

{% macro incremental_fingerprint(unique_id) %}
    {#- A hash of what an incremental model's rows depend on besides the raw files: the
        checksum of its own file and of every model and seed upstream of it, the column types
        of the raw tables upstream, and the vars staging and the scoring read. When it
        differs from the ledger's, the model rebuilds every customer (a base model: reads
        every file). Project macros are not part of it (docs/incremental.md: a changed macro
        takes --full-refresh). -#}
    {#- graph.nodes is absent where dbt is only rendered (sqlfluff's templater) -#}
    {%- set nodes = graph.get('nodes', {}) -%}
    {%- set ids = [unique_id] -%}
    {%- set raw_tables = [] -%}
    {%- for node_id in ids -%}
        {%- for parent in nodes.get(node_id, {}).get('depends_on', {}).get('nodes', []) -%}
            {%- if parent in nodes and parent not in ids -%}
                {%- do ids.append(parent) -%}
            {%- elif parent.startswith('source.' ~ project_name ~ '.shop.')
                and parent.split('.')[-1] not in raw_tables -%}
                {%- do raw_tables.append(parent.split('.')[-1]) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set parts = [] -%}
    {%- for node_id in ids | sort if node_id in nodes -%}
        {%- do parts.append(node_id ~ "=" ~ nodes[node_id].checksum.checksum) -%}
    {%- endfor -%}
    {#- the raw tables' column types: a batch file whose column has another type than the
        earlier files' makes the raw view read that column as text in every file -#}
    {%- for table_name in raw_tables | sort -%}
        {%- do parts.append(table_name ~ "=" ~ tojson(raw_column_types(table_name))) -%}
    {%- endfor -%}
    {%- for name in [
        'raw_contract', 'raw_null_tokens', 'raw_trim_code_points', 'raw_timestamp_formats',
        'raw_csv_max_line_size', 'order_statuses', 'max_line_value', 'as_of',
        'segmentation_features', 'segmentation_log_features', 'trend_months',
    ] -%}
        {%- do parts.append(name ~ "=" ~ tojson(var(name, none))) -%}
    {%- endfor -%}
    {%- do parts.append("sessions=" ~ segmentation_uses_sessions()) -%}
    {{ return(local_md5(parts | join("\n"))) }}
{% endmacro %}

{% macro require_parents_selected(parent_names, always=false) %}
    {#- Stops the build when the model would apply raw files that its parents were not
        rebuilt from in this invocation (dbt build --select int_customer_daily_activity
        alone): it would record them as applied without having read them. With always, it
        stops whenever a parent is not selected (a parent view whose rows depend on how the
        model is built). -#}
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
    {%- if missing and (always or run_query(
        "select count(*) from raw.raw_files where source_file not in (select source_file "
        ~ "from raw.applied_raw_files where model_name = '" ~ this.identifier ~ "')"
    ).rows[0][0] > 0) -%}
        {{ exceptions.raise_compiler_error(
            this.identifier ~ (" has raw files to apply" if not always else " needs")
            ~ ", but this build does not rebuild " ~ missing | join(", ")
            ~ (" from them" if not always else "") ~ ". Build it with its parents: dbt build "
            ~ "--select +" ~ this.identifier
        ) }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}

{% macro written_by_this_build(parent_name) -%}
    {#- SQL condition on the rows of parent_name, an incremental model of customer rows with a
        _built_at column: the rows this dbt invocation wrote when it builds that model too
        (dbt builds a parent first), true otherwise. A model that recomputes only the changed
        customers reads their rows of such a parent with it: the parent rewrote every row of
        those customers in this build (or every row), and the rows it appended fill the
        table's last row groups, which DuckDB then reads alone (it skips the others by the
        range of their _built_at) instead of reading every customer's rows and keeping
        the changed ones. A build of the model alone (no new file) still reads them all. -#}
    {%- if execute and selected_resources is defined
        and 'model.' ~ project_name ~ '.' ~ parent_name in selected_resources -%}
        _built_at = {{ segmentation.run_started_timestamp() }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

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

{% macro changed_customers_only(
    model_name=none, snapshot_dates=none, model_version=none, session_columns=true
) %}
    {#- At run time, for an incremental model of customer rows (this model, or the model
        named model_name): true when this build recomputes only the changed customers
        (int_customers_changed). False at parse time, on the first build, with
        --full-refresh, without a ledger (a table built before the ledger existed), when the
        ledger's fingerprint differs (incremental_fingerprint: the code upstream or the
        vars changed), with session_columns when the table has another set of web-session
        columns than the model now computes (a session feature added or removed), with
        snapshot_dates (int_snapshot_dates) when the month ends differ from the ones the
        ledger recorded, and with model_version (int_segment_centroids_current) when the
        table was scored with another model version: the model then rebuilds every
        customer. Always false in a unit test. -#}
    {%- if not execute or flags.FULL_REFRESH or model.resource_type != 'model' -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if model_name is none -%}
        {%- set unique_id = model.unique_id -%}
        {%- set relation = this if is_incremental() else none -%}
    {%- else -%}
        {%- set unique_id = 'model.' ~ project_name ~ '.' ~ model_name -%}
        {%- set node = graph.nodes[unique_id] -%}
        {%- set relation = adapter.get_relation(
            database=node.database, schema=node.schema, identifier=node.alias
        ) -%}
    {%- endif -%}
    {%- if not ledger_matches(unique_id, relation) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if snapshot_dates is not none and run_query(
        "select distinct snapshot_dates from raw.applied_raw_files where model_name = '"
        ~ unique_id.split('.')[-1] ~ "'"
    ).rows[0][0] != run_query("select " ~ month_end_dates_sql(snapshot_dates)).rows[0][0] -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if model_version is not none and run_query(
        "select count(*) from (select distinct model_version from " ~ relation ~ " except "
        ~ "select distinct model_version from " ~ model_version ~ ") as other_versions"
    ).rows[0][0] > 0 -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if not session_columns -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name')
        | map('lower') | list -%}
    {{ return(('session_count' in columns) == segmentation_uses_sessions()) }}
{% endmacro %}

{% macro delete_changed_customers(
    changed_customers, snapshot_dates=none, model_version=none, session_columns=true
) %}
    {#- pre-hook of an incremental model of customer rows: deletes the rows of the customers
        in changed_customers before the model appends them again, or every row when the
        model rebuilds all customers (changed_customers_only, given the same arguments, is
        false). Nothing on the first build and with --full-refresh, which create the table
        anew. Then records which of the two the build does (record_rewritten_customers). -#}
    {%- set changed_only = is_incremental() and changed_customers_only(
        snapshot_dates=snapshot_dates, model_version=model_version,
        session_columns=session_columns
    ) -%}
    {%- set delete = delete_customers(
        ('select customer_id from ' ~ changed_customers) if changed_only else none
    ) -%}
    {%- if not segmentation.keeps_file_ledger() -%}
        {{ return(delete) }}
    {%- endif -%}
    {{ return(delete ~ ';\n' ~ record_rewritten_customers(every_customer=not changed_only)) }}
{% endmacro %}

{% macro record_rewritten_customers(every_customer) %}
    {#- Part of delete_changed_customers' pre-hook: records in raw.rewritten_customers whether
        this build of the model rewrites every customer's rows or only those of
        int_customers_changed. The tests configured `where: "__rewritten_customers__"` read
        it (get_where_subquery). When the model's build fails, its tests do not run, and its
        next build writes the record again. -#}
    {%- if not segmentation.keeps_file_ledger() -%}
        {{ return('select 1') }}
    {%- endif -%}
    {{ rewritten_customers_replacement(this.identifier, every_customer) }}
{%- endmacro %}

{% macro rewritten_customers_replacement(model_name, every_customer) %}
    {#- SQL statements of record_rewritten_customers: model_name's record in
        raw.rewritten_customers becomes this build's (every_customer: true or false). -#}
    delete from raw.rewritten_customers
    where model_name = '{{ model_name }}';
    insert into raw.rewritten_customers (model_name, every_customer, built_at)
    values ('{{ model_name }}', {{ every_customer }}, {{ run_started_timestamp() }})
{%- endmacro %}

{% macro customers_summed_again(
    changed_customers, daily_activity, snapshot_dates, session_columns=true
) %}
    {#- At run time, for int_customer_totals_current (the sums of every customer's days before
        the analysis date) and customer_returns (session_columns false: it has no web-session
        columns): SQL select of the customers whose totals an incremental build
        sums again - those of changed_customers (int_customers_changed), whose days changed,
        and those with a day between the analysis date the model's ledger recorded at its
        last build and this build's (either way round: the days the date moved over). None
        when the build sums every customer: changed_customers_only is false, or the ledger
        holds no analysis date. -#}
    {%- if not changed_customers_only(session_columns=session_columns) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set recorded = run_query(
        "select distinct snapshot_dates from raw.applied_raw_files where model_name = '"
        ~ this.identifier ~ "'"
    ).rows -%}
    {%- if recorded | length != 1 or recorded[0][0] is none or ',' in recorded[0][0] -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(changed_or_moved_over_customers(
        changed_customers, daily_activity, snapshot_dates, recorded[0][0]
    )) }}
{% endmacro %}

{% macro changed_or_moved_over_customers(
    changed_customers, daily_activity, snapshot_dates, previous_date
) %}
    {#- SQL select of customers_summed_again: the customers of changed_customers and those with
        a day of daily_activity between previous_date (the analysis date the ledger recorded,
        'YYYY-MM-DD') and the current one of snapshot_dates, either way round. -#}
    {%- set previous = "cast('" ~ previous_date ~ "' as date)" -%}
    {%- set current -%}
        (
            select analysis_date.as_of_date from {{ snapshot_dates }} as analysis_date
            where analysis_date.snapshot_set = 'current'
        )
    {%- endset -%}
    select changed.customer_id from {{ changed_customers }} as changed
    union
    select moved_over.customer_id from {{ daily_activity }} as moved_over
    where
        moved_over.activity_date >= least({{ previous }}, {{ current }})
        and moved_over.activity_date < greatest({{ previous }}, {{ current }})
{%- endmacro %}

{% macro delete_customers(customers) %}
    {#- pre-hook of an incremental model of customer rows: deletes the rows of the customers
        that the select `customers` lists, or every row when it is none (the model rebuilds
        every customer). Nothing on the first build, with --full-refresh and with --empty. -#}
    {%- if not is_incremental() or flags.EMPTY -%}
        {{ return('select 1') }}
    {%- endif -%}
    {{ delete_rows(this, 'customer_id', customers) }}
{% endmacro %}

{% macro delete_rows(relation, key_column, keys) %}
    {#- SQL statement of the pre-hooks delete_customers, delete_orders and
        clear_unless_new_files_only: deletes the rows of relation whose key_column is in the
        select keys, or every row when keys is none. -#}
    delete from {{ relation }}
    {%- if keys is not none %}
    where {{ key_column }} in ({{ keys }})
    {%- endif %}
{%- endmacro %}

{% macro ledger_matches(unique_id, relation) %}
    {#- True when the incremental model unique_id has a table (relation, none when it does not
        exist) and a ledger of applied files whose fingerprint is the current one
        (incremental_fingerprint: the same code upstream and the same vars), so that it may
        apply only new files to what it holds. False on the first build, with
        --full-refresh and without a ledger. -#}
    {%- set name = unique_id.split('.')[-1] -%}
    {%- if relation is none or not has_applied_files(name) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set recorded = run_query(
        "select distinct fingerprint from raw.applied_raw_files where model_name = '" ~ name
        ~ "'"
    ).rows -%}
    {{ return(recorded | length == 1 and recorded[0][0] == incremental_fingerprint(unique_id)) }}
{% endmacro %}

{% macro applies_new_files_only() %}
    {#- At run time, in an incremental base model (the typed rows of one raw table): true when
        this build reads only the raw files the model's ledger does not hold (new_raw_files)
        and checks the rows it holds again; false when it reads every file: the first build,
        --full-refresh, --empty, no ledger, another fingerprint (the code upstream or the
        vars changed). Always false in a unit test. -#}
    {%- if not execute or flags.EMPTY or model.resource_type != 'model'
        or not is_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(ledger_matches(model.unique_id, this)) }}
{% endmacro %}

{% macro new_raw_files(table_name) %}
    {#- The paths of table_name's raw files that this model has not applied, in file-name
        order (a list). -#}
    {{ return(unapplied_raw_files([this.identifier], table_name)) }}
{% endmacro %}

{% macro clear_unless_new_files_only() %}
    {#- pre-hook of an incremental base model: empties the table when this build reads every
        raw file (applies_new_files_only is false), so that the rows it writes replace all
        rows at the cost of an insert; nothing on the first build, with --full-refresh and
        --empty. -#}
    {%- if not is_incremental() or flags.EMPTY or applies_new_files_only() -%}
        {{ return('select 1') }}
    {%- endif -%}
    {{ delete_rows(this, none, none) }}
{% endmacro %}

{% macro last_build_started() %}
    {#- At run time, in a model with a file ledger (post-hook record_applied_files) that
        recomputes only what its parents rewrote: the start of its last build, as a SQL
        timestamp literal (the ledger's future_cutoff is that build's
        run_started_timestamp), so that the rows a parent wrote after it (their _built_at is
        later) are the ones to recompute. None when the model recomputes every row: the
        first build, --full-refresh, --empty, no ledger, another fingerprint (ledger_matches:
        the code upstream or the vars changed). Always none in a unit test. -#}
    {%- if not execute or flags.EMPTY or model.resource_type != 'model' or not is_incremental()
        or not ledger_matches(model.unique_id, this) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set started = run_query(
        "select max(future_cutoff) from raw.applied_raw_files where model_name = '"
        ~ this.identifier ~ "'"
    ).rows[0][0] -%}
    {{ return(none if started is none else "cast('" ~ started ~ "' as timestamp)") }}
{% endmacro %}

{% macro orders_rewritten_since_last_build(parent) %}
    {#- At run time, for an incremental model of rows per order (stg_shop__returns): SQL select
        of the orders whose rows in parent (an incremental base model with _built_at) were
        written after the model's last build (last_build_started), the orders it computes
        again; none when it computes every order. -#}
    {%- set since = last_build_started() -%}
    {%- if since is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(rows_written_after(parent, 'order_id', since)) }}
{% endmacro %}

{% macro rows_written_after(parent, key_column, since) %}
    {#- SQL select of orders_rewritten_since_last_build: the key_column of the rows of parent
        (with _built_at) written after since (a SQL timestamp). -#}
    select {{ key_column }} from {{ parent }}
    where _built_at > {{ since }}
{%- endmacro %}

{% macro delete_orders(orders) %}
    {#- pre-hook of an incremental model of rows per order: deletes the rows of the orders that
        the select `orders` lists (orders_rewritten_since_last_build), or every row when it is
        none. Nothing on the first build, with --full-refresh and with --empty, which create
        the table anew. -#}
    {%- if not is_incremental() or flags.EMPTY -%}
        {{ return('select 1') }}
    {%- endif -%}
    {{ delete_rows(this, 'order_id', orders) }}
{% endmacro %}
