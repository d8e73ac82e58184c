-- Every raw product row, typed, with the first rule it breaks (null = kept).
{%- set raw_types = raw_column_types('products') %}
with

source as (
    select * from {{ source('shop', 'products') }}
),

cleaned as (
    -- every text value once trimmed, with the null tokens (NULL, N/A, ...) as null
    -- (clean_string; clean_text_to_parse: only where the file gives the column as text); the
    -- raw values stay beside them for the quarantine's raw_ columns
    select
        *,
        {{ clean_string('product_id') }} as product_id_text,
        {{ clean_string('product_name') }} as product_name_text,
        {{ clean_string('category') }} as category_text,
        {{ clean_text_to_parse('list_price', raw_types) }} as list_price_text
    from source
),

parsed as (
    {%- set list_price = parse_money('list_price', raw_types, 'list_price_text') %}
    select
        product_id_text as product_id,
        product_name_text as product_name,
        {{ clean_enum('category', 'category_text') }} as category,
        {{ list_price }} as list_price,
        {{ is_unparseable('list_price', list_price, raw_types, 'list_price_text') }}
            as is_list_price_unparseable,
        {{ raw_columns('products', as_text=true) }}
    from cleaned
),

flagged as (
    select
        *,
        case
            when product_id is null then 'missing_product_id'
            when is_list_price_unparseable then 'unparseable_list_price'
            when list_price < 0 then 'negative_list_price'
        end as row_reject_reason
    from parsed
),

final as (
    -- duplicate keys: the first valid row of each key in each file is kept; a key sent again
    -- in a later batch file is an update, the earlier row superseded
    -- (macros/utils/duplicate_keys.sql)
    select
        flagged.*,
        {{ duplicate_key_reason('products') }} as reject_reason,
        {{ superseded_by_file('products') }} as superseded_by_file
    from flagged
)

select * from final
