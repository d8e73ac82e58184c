-- type_money (macros/utils/cleaning.sql)
select cast(unit_price as {{ type_money() }}) as unit_price
from {{ source('shop', 'order_items') }}
