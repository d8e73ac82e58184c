-- raw_text_where (macros/utils/cleaning.sql): generated from the var raw_contract.
select
    order_id,
    {{ raw_text_where('orders', 'order_id is null') }}
from {{ ref('base_shop__orders') }}
