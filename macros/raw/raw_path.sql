{% macro raw_path() %}
    {#- The raw folder: dbt var raw_path, else env SEGMENTATION_RAW, else data/raw.
        Jinja in dbt_project.yml vars is not rendered, so the env fallback lives here. -#}
    {%- set path = var('raw_path', env_var('SEGMENTATION_RAW', 'data/raw')) -%}
    {{- return(path.rstrip('/')) -}}
{% endmacro %}
