-- parse_money (macros/utils/cleaning.sql): from text and from a native number.
select
    {{ parse_money('unit_price') }} as from_text,
    {{ parse_money('unit_price', {'unit_price': 'DECIMAL(18,2)'}) }} as from_number
from {{ source('shop', 'order_items') }}
