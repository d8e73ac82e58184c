-- parse_integer (macros/utils/cleaning.sql): from text, a native integer and a native double.
select
    {{ parse_integer('quantity') }} as from_text,
    {{ parse_integer('quantity', {'quantity': 'BIGINT'}) }} as from_integer,
    {{ parse_integer('quantity', {'quantity': 'DOUBLE'}) }} as from_double
from {{ source('shop', 'order_items') }}
