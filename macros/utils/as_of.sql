{% macro future_cutoff() -%}
    {#- Timestamps after the moment the dbt run started cannot be true: staging quarantines
        them. (Rows after an explicit as_of are kept, just not counted in the metrics.) -#}
    {{ run_started_timestamp() }}
{%- endmacro %}

{% macro run_started_timestamp() -%}
    {#- The moment this dbt invocation started, as a SQL timestamp literal (microseconds), the
        same value the Python models record as fitted_at. -#}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
