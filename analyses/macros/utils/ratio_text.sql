-- ratio_text (macros/utils/statistics.sql)
-- LT01 is ignored on the call: dbt.type_numeric() renders "numeric(28,6)" (no space).
select {{ ratio_text('net_amount', 'gross_amount') }} as net_to_gross  -- noqa: LT01
from {{ ref('stg_shop__order_items') }}
