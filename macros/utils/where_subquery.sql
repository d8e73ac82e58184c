{% macro default__get_where_subquery(relation) -%}
    {#- dbt's filter of the relation a test reads by the test's `where` config, plus one
        placeholder: __latest_build__ stands for the start of the build that last wrote the
        relation, max(_built_at). A test configured `where: "_built_at = __latest_build__"`
        reads only the rows that build wrote: the new and recomputed rows of an incremental
        model, every row after a build from all files. For a view that joins its `_built_at`
        table to others, the test's `meta: {latest_build_from: <model>}` names the parent
        whose `_built_at` the view carries: the maximum is read there, not through the view's
        joins over every row. A second placeholder, __rewritten_customers__, keeps the rows of
        the customers the latest build rewrote (rewritten_customers_condition). Wins over
        dbt's default (the project comes first in the dispatch search order,
        dbt_project.yml). -#}
    {%- set where = config.get('where', '') -%}
    {%- if not where -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- if '__rewritten_customers__' in where -%}
        {%- set where = where | replace(
            '__rewritten_customers__', rewritten_customers_condition()
        ) -%}
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
    {{ return(node_relation(graph.nodes[parent_id])) }}
{%- endmacro %}

{% macro node_relation(node) -%}
    {#- The relation of a model node of the graph (graph.nodes[...]), for a test that reads
        a model it does not name. -#}
    {{ return(api.Relation.create(
        database=node.database, schema=node.schema, identifier=node.alias
    )) }}
{%- endmacro %}

{% macro rewritten_customers_condition() -%}
    {#- SQL condition for a test of the incremental models of customer rows (the order and
        return facts): true for the rows of the customers the latest build rewrote. That is
        every row when one of the test's parent models rewrote every customer at its latest
        build (raw.rewritten_customers: the first build, --full-refresh, a changed
        fingerprint) or has no record, and otherwise the rows of int_customers_changed's
        customers: the rows of every other customer were tested by the build that wrote them,
        and cannot collide with the new ones (a build rewrites every row of each customer it
        recomputes, an order's old and new customer included). Every parent model of the
        test must be such a model, or the compile stops; on an engine without the file ledger
        (every build rewrites every customer) the condition is true. -#}
    {%- if not execute or not segmentation.keeps_file_ledger() -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set by_customer = segmentation.ledger_models() -%}
    {%- set parents = [] -%}
    {%- for parent_id in model.depends_on.nodes if parent_id.startswith('model.') -%}
        {%- set parent = graph.nodes[parent_id] -%}
        {%- if parent.name not in by_customer -%}
            {{ exceptions.raise_compiler_error(
                '__rewritten_customers__ in the where of ' ~ model.name ~ ': '
                ~ parent.name ~ ' is not an incremental model of customer rows (one that '
                ~ 'reads int_customers_changed), so its rows are not rewritten by customer'
            ) }}
        {%- endif -%}
        {%- do parents.append(parent.alias) -%}
    {%- endfor -%}
    {%- if not parents -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set changed_relation = node_relation(
        graph.nodes['model.' ~ project_name ~ '.int_customers_changed']
    ) -%}
    {{ return(
        '(customer_id in (select changed.customer_id from ' ~ changed_relation
        ~ ' as changed) or (select count(*) from raw.rewritten_customers as rewritten'
        ~ " where not rewritten.every_customer and rewritten.model_name in ('"
        ~ parents | join("', '") ~ "')) < " ~ parents | length ~ ')'
    ) }}
{%- endmacro %}
