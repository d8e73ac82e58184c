-- raw_columns (macros/utils/cleaning.sql): generated from the var raw_contract.
select
    order_id,
    {{ raw_columns('orders', as_text=true) }}
from {{ source('shop', 'orders') }}
