-- safe_divide (macros/utils/cleaning.sql)
select {{ safe_divide('discount_amount', 'gross_amount') }} as discount_share
from {{ ref('stg_shop__order_items') }}
