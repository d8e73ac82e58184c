-- Every raw row of every table, reduced to the ids that say which customers it can touch:
-- the id that its versions share (key_id: the key, or for an order line its order) and the
-- order and customer it names, cleaned as the base models clean them. No rule is checked and
-- nothing is joined, so a read of one file or of one key's versions stays cheap: this is
-- what int_customers_changed reads to find the customers that new files touch, including
-- the customers of the versions those files replace. One CTE per table, written out so that
-- each table's columns can be read (they differ: an order line follows its order).
with

customers as (
    select
        'customers' as table_name,
        _source_file,
        _source_row,
        {{ clean_string('customer_id') }} as key_id,
        cast(null as {{ dbt.type_string() }}) as order_id,
        {{ clean_string('customer_id') }} as customer_id
    from {{ source('shop', 'customers') }}
),

orders as (
    select
        'orders' as table_name,
        _source_file,
        _source_row,
        {{ clean_string('order_id') }} as key_id,
        {{ clean_string('order_id') }} as order_id,
        {{ clean_string('customer_id') }} as customer_id
    from {{ source('shop', 'orders') }}
),

order_items as (
    -- every version of a line has the line's order: the order is the id to follow
    select
        'order_items' as table_name,
        _source_file,
        _source_row,
        {{ clean_string('order_id') }} as key_id,
        {{ clean_string('order_id') }} as order_id,
        cast(null as {{ dbt.type_string() }}) as customer_id
    from {{ source('shop', 'order_items') }}
),

returns as (
    select
        'returns' as table_name,
        _source_file,
        _source_row,
        {{ clean_string('return_id') }} as key_id,
        {{ clean_string('order_id') }} as order_id,
        cast(null as {{ dbt.type_string() }}) as customer_id
    from {{ source('shop', 'returns') }}
),

products as (
    select
        'products' as table_name,
        _source_file,
        _source_row,
        {{ clean_string('product_id') }} as key_id,
        cast(null as {{ dbt.type_string() }}) as order_id,
        cast(null as {{ dbt.type_string() }}) as customer_id
    from {{ source('shop', 'products') }}
),

sessions as (
    select
        'sessions' as table_name,
        _source_file,
        _source_row,
        {{ clean_string('session_id') }} as key_id,
        cast(null as {{ dbt.type_string() }}) as order_id,
        {{ clean_string('customer_id') }} as customer_id
    from {{ source('shop', 'sessions') }}
),

final as (
    select * from customers
    union all
    select * from orders
    union all
    select * from order_items
    union all
    select * from returns
    union all
    select * from products
    union all
    select * from sessions
)

select * from final
