{% macro clean_string(column) -%}
    {#- Text with surrounding spaces removed; empty strings become NULL. -#}
    nullif(trim(cast({{ column }} as {{ dbt.type_string() }})), '')
{%- endmacro %}

{% macro clean_enum(column) -%}
    {#- Normalised enumeration value: trimmed, lower case, spaces to underscores. -#}
    replace(lower({{ clean_string(column) }}), ' ', '_')
{%- endmacro %}

{% macro parse_timestamp(column) -%}
    {#- UTC timestamp from text or a native value; NULL when unparseable (staging flags it).
        An ISO-8601 offset (+02:00, Z) is converted to UTC; values without one are UTC. -#}
    {{ return(adapter.dispatch('parse_timestamp', 'segmentation')(column)) }}
{%- endmacro %}

{% macro default__parse_timestamp(column) -%}
    {{ dbt.safe_cast(clean_string(column), dbt.type_timestamp()) }}
{%- endmacro %}

{% macro duckdb__parse_timestamp(column) -%}
    {#- The profile sets the session TimeZone to UTC, so text without an offset is UTC. -#}
    timezone('UTC', try_cast({{ clean_string(column) }} as timestamptz))
{%- endmacro %}

{% macro parse_date(column) -%}
    {{ dbt.safe_cast(clean_string(column), 'date') }}
{%- endmacro %}

{% macro parse_integer(column) -%}
    {#- Whole number; text, fractions and overflow give NULL (staging flags it). -#}
    case
        when {{ dbt.safe_cast(clean_string(column), 'double') }}
            = floor({{ dbt.safe_cast(clean_string(column), 'double') }})
            then {{ dbt.safe_cast(clean_string(column), dbt.type_bigint()) }}
    end
{%- endmacro %}

{% macro parse_money(column) -%}
    {{ dbt.safe_cast(clean_string(column), type_money()) }}
{%- endmacro %}

{% macro is_unparseable(column, parsed) -%}
    {#- True when the raw value is present but could not be parsed. -#}
    ({{ clean_string(column) }} is not null and {{ parsed }} is null)
{%- endmacro %}

{% macro type_money() -%}
    {#- Money: four decimals, exact. Prices may carry fractions of a cent (e.g. 0.001), so
        line values and totals stay exact; Power BI reads decimal(18,4) as Fixed Decimal. -#}
    decimal(18, 4)
{%- endmacro %}

{% macro safe_divide(numerator, denominator) -%}
    cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0)
{%- endmacro %}

{% macro hash_key(expression) -%}
    {#- One-way hash for personal values and for ids shown in reports. -#}
    {{ dbt.hash(expression) }}
{%- endmacro %}

{% macro raw_columns_as_text(table_name) -%}
    {#- Every contract column of a raw table as text, prefixed raw_, for quarantine rows. -#}
    {%- for col in var('raw_contract')[table_name].columns %}
    cast({{ col }} as {{ dbt.type_string() }}) as raw_{{ col }},
    {%- endfor %}
    _source_file
{%- endmacro %}
