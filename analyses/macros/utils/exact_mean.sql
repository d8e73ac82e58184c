-- exact_mean (macros/utils/statistics.sql)
select {{ exact_mean('net_amount') }} as mean_net_amount
from {{ ref('fct_order_items') }}
