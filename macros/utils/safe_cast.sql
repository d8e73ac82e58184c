{% macro duckdb__safe_cast(field, type) -%}
    {#- dbt-duckdb falls back to a plain cast, which aborts the build on one bad value.
        try_cast gives NULL instead, and staging quarantines the row with its reason. -#}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}
