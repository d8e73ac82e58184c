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


{% macro rollback_failed_refit(results) -%}
    {#- on-run-end: a build that fitted a new model version and then failed anywhere (a model
        error, a failed test) removes that version from the model history again
        (segment_k_selection, segment_centroids, segment_stability, segment_fit_sample) and
        this run's rows from segmentation_runs / segmentation_run_segments. The last good
        version stays current, so the next build compares against it (and refits again if the
        reason to refit still holds). Returns no SQL: the statements run here. DuckDB only:
        Spark has no delete on Parquet tables (docs/scale-out.md). -#}
    {%- if not execute or target.type != 'duckdb' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set failed = [] -%}
    {%- for result in results -%}
        {%- if result.status in ('error', 'fail', 'runtime error') -%}
            {%- do failed.append(result.node.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not failed -%}
        {{ return('') }}
    {%- endif -%}
    {%- set history = {} -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.name in (
            'segment_k_selection', 'segment_centroids', 'segment_stability',
            'segment_fit_sample', 'segmentation_runs', 'segmentation_run_segments'
        ) -%}
            {%- set relation = adapter.get_relation(
                database=node.database, schema=node.schema, identifier=node.alias
            ) -%}
            {%- if relation is not none -%}
                {%- do history.update({node.name: relation}) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if 'segment_k_selection' not in history -%}
        {{ return('') }}
    {%- endif -%}
    {%- set fitted = run_query(
        'select distinct model_version from ' ~ history['segment_k_selection']
        ~ ' where fitted_at = ' ~ run_started_timestamp()
    ) -%}
    {%- set versions = fitted.columns[0].values() | list -%}
    {%- if versions -%}
        {%- set listed = versions | join(', ') -%}
        {%- for name in ('segment_k_selection', 'segment_centroids', 'segment_stability',
                         'segment_fit_sample') -%}
            {%- if name in history -%}
                {%- do run_query(
                    'delete from ' ~ history[name] ~ ' where model_version in (' ~ listed ~ ')'
                ) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for name in ('segmentation_runs', 'segmentation_run_segments') -%}
            {%- if name in history -%}
                {%- do run_query(
                    'delete from ' ~ history[name] ~ " where run_id = '" ~ invocation_id ~ "'"
                ) -%}
            {%- endif -%}
        {%- endfor -%}
        {{ log(
            'The build failed (' ~ (failed | join(', ')) ~ ') after fitting model version '
            ~ listed ~ ': that version was removed from the model history, so the last good'
            ~ ' version stays current. Marts this build rebuilt with it are replaced by the'
            ~ ' next passing build.', info=true
        ) }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}


{% macro require_run_started() -%}
    {#- Stops a build that writes a monitoring table of this run (segmentation_runs,
        segmentation_run_segments: merged on run_id) without rebuilding int_run_started,
        which holds the run's id: its rows would replace the previous build's. `segmentation
        spark-build` builds int_run_started in its first dbt step and these tables after the
        fit, in later steps of the same run; it sets SEGMENTATION_RUN_STEP=after-fit there. -#}
    {%- if execute and flags.WHICH in ('build', 'run') and selected_resources is defined
        and 'model.' ~ project_name ~ '.int_run_started' not in selected_resources
        and env_var('SEGMENTATION_RUN_STEP', '') != 'after-fit' -%}
        {{ exceptions.raise_compiler_error(
            this.identifier ~ " records this build under the run id of int_run_started, which"
            ~ " this build does not rebuild: its rows would replace the previous build's."
            ~ " Build them together: dbt build --select int_run_started " ~ this.identifier
        ) }}
    {%- endif -%}
{%- endmacro %}
