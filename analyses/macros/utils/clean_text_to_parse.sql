-- clean_text_to_parse (macros/utils/cleaning.sql): a typed column gives null, a text one its
-- cleaned text.
{%- set raw_types = raw_column_types('order_items') %}
select
    {{ clean_text_to_parse('quantity', raw_types) }} as quantity_text,
    {{ clean_text_to_parse('order_id', raw_types) }} as order_id_text
from {{ source('shop', 'order_items') }}
