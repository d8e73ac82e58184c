-- stable_double (macros/utils/statistics.sql)
select {{ stable_double('avg(net_amount)') }} as mean_net_amount
from {{ ref('stg_shop__order_items') }}
