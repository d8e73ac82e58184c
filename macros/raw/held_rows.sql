{#-
    The two steps an incremental base model (the typed rows of one raw table, reading only
    its new files: applies_new_files_only) adds to a build from every file. Both render
    nothing when new_files_only is false, so the model is then the plain build.
-#}

{% macro union_held_rows(new_files_only, joined_columns=[], quarantined_only=false) -%}
    {#- After the select of the new rows in the model's `parsed` step (which sets is_new_row
        true): the rows the table holds, with the reject reason the rules gave them
        (held_reject_reason), so that the rules check them again (a customer or an order
        that arrived, a row no longer from the future); the rows the model writes get this
        build's _built_at. joined_columns: columns the model joins to the rows again (the
        returns' order line), held as held_<column> so that the model can see which rows
        they changed. quarantined_only: only the held rows a rule rejected, for a table whose
        rules cannot reject a row they kept unless a row of its own table comes (its kept
        rows' customer or order stays kept, and time only moves forward); union_kept_versions
        adds the kept versions of the keys whose rows are ranked again. -#}
    {%- if new_files_only %}
    union all by name
    select
        * exclude (
            row_reject_reason, reject_reason, superseded_by_file, _built_at
            {%- for column in joined_columns %}, {{ column }}{% endfor %}
        ),
        {%- for column in joined_columns %}
        {{ column }} as held_{{ column }},
        {%- endfor %}
        row_reject_reason as held_reject_reason,
        false as is_new_row
    from {{ this }}
    {%- if quarantined_only %}
    where row_reject_reason is not null
    {%- endif %}
    {%- endif %}
{%- endmacro %}

{% macro where_key_changed(flagged, key_column, new_files_only) -%}
    {#- The where clause that keeps, of the checked rows (flagged: the step that gives every
        row its row_reject_reason), the new rows and every version of the keys (key_column)
        with a new row or a held row whose answer changed: the rows the duplicate-key and
        update rules must rank again. -#}
    {%- if new_files_only %}
    where
        is_new_row
        or {{ key_column }} in (
            {{ keys_ranked_again(flagged, key_column) }}
        )
    {%- endif %}
{%- endmacro %}

{% macro keys_ranked_again(flagged, key_column) -%}
    {#- The select of the keys (key_column) whose rows an incremental build ranks again: those
        with a new row or a held row whose answer changed, of the checked rows (flagged).
        Read by where_key_changed and union_kept_versions. -#}
    select answers.{{ key_column }}
            from {{ flagged }} as answers
            where
                answers.is_new_row
                or answers.row_reject_reason is distinct from answers.held_reject_reason
{%- endmacro %}

{% macro union_kept_versions(flagged, key_column, new_files_only) -%}
    {#- After where_key_changed, in a model whose `parsed` step holds only the quarantined
        held rows (union_held_rows with quarantined_only): the held rows the rules kept, of
        the keys with a new row or a held row whose answer changed, with the answer they
        have (the rules would give it again), so that the duplicate-key and update rules rank
        every version of those keys. -#}
    {%- if new_files_only %}
    union all by name
    select
        * exclude (reject_reason, superseded_by_file, _built_at),
        row_reject_reason as held_reject_reason,
        false as is_new_row
    from {{ this }} as held
    where
        held.row_reject_reason is null
        and held.{{ key_column }} in (
            {{ keys_ranked_again(flagged, key_column) }}
        )
    {%- endif %}
{%- endmacro %}

{% macro not_materialized(when) -%}
    {#- Written between `name as` and the `(` of a step that is read twice and that DuckDB
        should not keep in memory as a whole, when `when` is true: the steps of an incremental
        base model that hold every held row (the returns' `parsed`, `candidates` and
        `flagged`; the other base models read only their quarantined held rows there), with
        their raw text (it was about 4 GB for the web sessions at 1M customers, when they
        read every held row); int_customers_changed's row keys (every raw row's ids), which
        its steps read for one table each; segment_trends' month-end segments (16.5 M rows
        at 1M customers), which its two steps read for different columns. NOT MATERIALIZED
        makes each reader scan the table for the rows and columns it needs. Nothing when
        `when` is false (a base model's build from every file: its `changed` step, read
        three times, is what DuckDB keeps, so the raw text is parsed once) and on engines
        without the keyword. -#}
    {%- if when -%}
        {{ return(adapter.dispatch('not_materialized', 'segmentation')()) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__not_materialized() -%}
{%- endmacro %}

{% macro duckdb__not_materialized() -%}
    not materialized
{%- endmacro %}
