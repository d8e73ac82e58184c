-- age_band (macros/utils/bands.sql)
with

customers as (
    select
        birth_date,
        current_date as as_of_date
    from {{ ref('base_shop__customers') }}
)

-- LT01 is ignored on the call: dbt-duckdb's datediff renders "::timestamp )".
select {{ age_band('birth_date', 'as_of_date') }} as age_band  -- noqa: LT01
from customers
