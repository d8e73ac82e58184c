-- median (macros/utils/statistics.sql), dispatched.
select {{ median('net_amount') }} as median_net_amount
from {{ ref('stg_shop__order_items') }}
