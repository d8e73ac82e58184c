-- raw_columns_as_text (macros/utils/cleaning.sql): generated from the var raw_contract.
select
    order_id,
    {{ raw_columns_as_text('orders') }}
from {{ source('shop', 'orders') }}
