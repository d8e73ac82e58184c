{% macro as_of_date() -%}
    {#- The analysis date as a SQL expression: var as_of (YYYY-MM-DD) when given, else the day
        after the latest kept order (int_analysis_date). Builds are reproducible: nothing
        depends on the wall clock. -#}
    {%- if var('as_of', none) -%}
        cast('{{ var("as_of") }}' as date)
    {%- else -%}
        (select as_of_date from {{ ref('int_analysis_date') }})
    {%- endif -%}
{%- endmacro %}

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
