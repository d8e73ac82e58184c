{% macro default__get_where_subquery(relation) -%}
    {#- dbt's filter of the relation a test reads by the test's `where` config, plus one
        placeholder: __latest_build__ stands for the start of the build that last wrote the
        relation, max(_built_at). A test configured `where: "_built_at = __latest_build__"`
        reads only the rows that build wrote: the new and recomputed rows of an incremental
        model, every row after a build from all files. For a view that joins its `_built_at`
        table to others, the test's `meta: {latest_build_from: <model>}` names the parent
        whose `_built_at` the view carries: the maximum is read there, not through the view's
        joins over every row. Wins over dbt's default (the project comes first in the
        dispatch search order, dbt_project.yml). -#}
    {%- set where = config.get('where', '') -%}
    {%- if not where -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set built_at_relation = latest_build_relation(relation) -%}
    {%- set where = where | replace(
        '__latest_build__',
        '(select max(latest._built_at) from ' ~ built_at_relation ~ ' as latest)'
    ) -%}
    {{ return(
        '(\n    select * from ' ~ relation ~ '\n    where ' ~ where ~ '\n) as dbt_subquery'
    ) }}
{%- endmacro %}

{% macro latest_build_relation(relation) -%}
    {#- The relation whose max(_built_at) is a test's __latest_build__: the tested relation, or
        the parent model that the test's meta latest_build_from names. That model must be a
        direct parent of the tested model, so that dbt's lineage shows the read. -#}
    {%- set name = config.get('meta', {}).get('latest_build_from') -%}
    {%- if not name or not execute -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set tested = graph.nodes[model.attached_node] -%}
    {%- set parent_id = 'model.' ~ tested.package_name ~ '.' ~ name -%}
    {%- if parent_id not in tested.depends_on.nodes -%}
        {{ exceptions.raise_compiler_error(
            'latest_build_from: ' ~ name ~ ' is not a parent of ' ~ tested.name
        ) }}
    {%- endif -%}
    {%- set parent = graph.nodes[parent_id] -%}
    {{ return(api.Relation.create(
        database=parent.database, schema=parent.schema, identifier=parent.alias
    )) }}
{%- endmacro %}
