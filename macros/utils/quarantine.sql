{% macro quarantine_rows(base_model, table_name) -%}
    {#- Rejected rows of a raw table: every raw column as text, the reason, the file. -#}
with

rejected as (
    select
        '{{ table_name }}' as source_table,
        reject_reason,
        {%- for col in var('raw_contract')[table_name].columns %}
        raw_{{ col }},
        {%- endfor %}
        _source_file as source_file
    from {{ ref(base_model) }}
    where reject_reason is not null
)

select * from rejected
{%- endmacro %}

{% macro age_band(birth_date, as_of) -%}
    {#- Age band at the analysis date (full years, 365.25-day years); birth dates in the future
        or more than 120 years back are treated as missing. -#}
    {%- set age = "floor(" ~ dbt.datediff(birth_date, as_of, 'day') ~ " / 365.25)" -%}
    case
        when {{ birth_date }} is null or {{ birth_date }} > {{ as_of }} then null
        when {{ age }} > 120 then null
        when {{ age }} < 18 then 'under 18'
        when {{ age }} < 25 then '18-24'
        when {{ age }} < 35 then '25-34'
        when {{ age }} < 45 then '35-44'
        when {{ age }} < 55 then '45-54'
        when {{ age }} < 65 then '55-64'
        else '65+'
    end
{%- endmacro %}

{% macro reject_duplicate_keys(relation, key_columns, order_by, reason,
                               output_column='reject_reason') -%}
    {#- Every row of `relation` with its reject reason (`output_column`): its own
        row_reject_reason, or `reason` when another valid row with the same key comes first
        in the `order_by` list (the first valid row of each key is kept, deterministically). -#}
    select
        *,
        coalesce(
            row_reject_reason,
            case
                when row_number() over (
                    partition by {{ key_columns | join(', ') }}, row_reject_reason is null
                    order by {{ order_by | join(', ') }}
                ) > 1 then '{{ reason }}'
            end
        ) as {{ output_column }}
    from {{ relation }}
{%- endmacro %}
