{% macro relation_exists(schema, identifier) -%}
    {#- True when the table exists in the target database (state from an earlier build).
        Overridden to true in unit tests, which give the table's rows as input. -#}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set found = adapter.get_relation(
        database=target.database, schema=schema, identifier=identifier
    ) -%}
    {{ return(found is not none) }}
{%- endmacro %}

{% macro psi_binned(values_relation, edges_relation) -%}
    {#- Each (key, feature, value) row's bin: the first reference decile edge >= value
        (values above the top edge go to the top bin), 0 for missing values. -#}
    select
        values_rows.row_key,
        values_rows.feature,
        case
            when values_rows.feature_value is null then 0
            else coalesce(min(edges_rows.bin), max(top_edges.top_bin))
        end as bin
    from {{ values_relation }} as values_rows
    left join {{ edges_relation }} as edges_rows
        on
            values_rows.feature = edges_rows.feature
            and values_rows.feature_value <= edges_rows.upper_edge
    left join (
        select
            feature,
            max(bin) as top_bin
        from {{ edges_relation }}
        group by feature
    ) as top_edges
        on values_rows.feature = top_edges.feature
    group by values_rows.row_key, values_rows.feature, values_rows.feature_value
{%- endmacro %}
