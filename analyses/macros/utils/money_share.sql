-- money_share and integer_divide (macros/utils/cleaning.sql)
select
    {{ money_share('net_amount', '1', 'quantity') }} as unit_net_value,
    {{ integer_divide('quantity', '2') }} as pairs
from {{ ref('stg_shop__order_items') }}
