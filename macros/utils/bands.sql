{% macro age_band(birth_date, as_of) -%}
    {#- Age band at the analysis date, in full years (a birthday on the analysis date counts:
        the day's number yyyymmdd less the birth's, in ten thousands); birth dates in the
        future or more than 120 years back are treated as missing. -#}
    {%- set as_number = [] -%}
    {%- for day in [as_of, birth_date] -%}
        {%- do as_number.append(
            "(extract(year from " ~ day ~ ") * 10000 + extract(month from " ~ day
            ~ ") * 100 + extract(day from " ~ day ~ "))"
        ) -%}
    {%- endfor -%}
    {%- set age = "floor((" ~ as_number[0] ~ " - " ~ as_number[1] ~ ") / 10000)" -%}
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
