-- is_unparseable (macros/utils/cleaning.sql): for text and for a native column.
select
    {{ is_unparseable('quantity', parse_integer('quantity')) }} as text_is_unparseable,
    {{ is_unparseable(
        'quantity',
        parse_integer('quantity', {'quantity': 'DOUBLE'}),
        {'quantity': 'DOUBLE'}
    ) }} as double_is_unparseable
from {{ source('shop', 'order_items') }}
