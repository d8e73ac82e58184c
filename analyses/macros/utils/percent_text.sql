-- percent_text (macros/utils/statistics.sql)
select {{ percent_text('discount_amount / gross_amount') }} as discount_text
from {{ ref('stg_shop__order_items') }}
