-- number_text (macros/utils/statistics.sql)
-- LT01 is ignored on the call: dbt.type_numeric() renders "numeric(28,6)" (no space).
select {{ number_text('unit_price', 2) }} as unit_price_text  -- noqa: LT01
from {{ ref('stg_shop__order_items') }}
