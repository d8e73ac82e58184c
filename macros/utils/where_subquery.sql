{% macro default__get_where_subquery(relation) -%}
    {#- dbt's filter of the relation a test reads by the test's `where` config, plus one
        placeholder: __latest_build__ stands for the start of the build that last wrote the
        relation, max(_built_at). A test configured `where: "_built_at = __latest_build__"`
        reads only the rows that build wrote: the new and recomputed rows of an incremental
        model, every row after a build from all files. Wins over dbt's default (the project
        comes first in the dispatch search order, dbt_project.yml). -#}
    {%- set where = config.get('where', '') -%}
    {%- if not where -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set where = where | replace(
        '__latest_build__', '(select max(latest._built_at) from ' ~ relation ~ ' as latest)'
    ) -%}
    {{ return(
        '(\n    select * from ' ~ relation ~ '\n    where ' ~ where ~ '\n) as dbt_subquery'
    ) }}
{%- endmacro %}
