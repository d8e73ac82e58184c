-- Every raw row of every table, reduced to the ids that say which customers it can touch:
-- the id that its versions share (key_id: the key, or for an order line its order) and the
-- order and customer it names, cleaned as the base models clean them. No rule is checked and
-- nothing is joined, so a read of one file or of one key's versions stays cheap: this is
-- what int_customers_changed reads to find the customers that new files touch, including
-- the customers of the versions those files replace. The orders, lines and returns come
-- from their base tables, which hold every raw row's ids already cleaned (a scan of two or
-- three columns instead of a parse of every raw file); the customers and products, whose
-- base models are views, and the web sessions from the raw files. `final` says which id is
-- the key (they differ: an order line follows its order).
with

customers as (
    select
        _source_file,
        _source_row,
        {{ clean_string('customer_id') }} as customer_id
    from {{ source('shop', 'customers') }}
),

orders as (
    select
        _source_file,
        _source_row,
        order_id,
        customer_id
    from {{ ref('base_shop__orders') }}
),

order_items as (
    select
        _source_file,
        _source_row,
        order_id
    from {{ ref('base_shop__order_items') }}
),

returns as (
    select
        _source_file,
        _source_row,
        return_id,
        order_id
    from {{ ref('base_shop__returns') }}
),

products as (
    select
        _source_file,
        _source_row,
        {{ clean_string('product_id') }} as product_id
    from {{ source('shop', 'products') }}
),

sessions as (
    -- from the raw files, like the customers: int_customers_changed reads the web sessions
    -- only for a session feature, and the default segmentation must not depend on them
    select
        _source_file,
        _source_row,
        {{ clean_string('session_id') }} as session_id,
        {{ clean_string('customer_id') }} as customer_id
    from {{ source('shop', 'sessions') }}
),

final as (
    select
        'customers' as table_name,
        _source_file,
        _source_row,
        customer_id as key_id,
        cast(null as {{ dbt.type_string() }}) as order_id,
        customer_id
    from customers
    union all
    select
        'orders' as table_name,
        _source_file,
        _source_row,
        order_id as key_id,
        order_id,
        customer_id
    from orders
    union all
    -- every version of a line has the line's order: the order is the id to follow
    select
        'order_items' as table_name,
        _source_file,
        _source_row,
        order_id as key_id,
        order_id,
        cast(null as {{ dbt.type_string() }}) as customer_id
    from order_items
    union all
    select
        'returns' as table_name,
        _source_file,
        _source_row,
        return_id as key_id,
        order_id,
        cast(null as {{ dbt.type_string() }}) as customer_id
    from returns
    union all
    select
        'products' as table_name,
        _source_file,
        _source_row,
        product_id as key_id,
        cast(null as {{ dbt.type_string() }}) as order_id,
        cast(null as {{ dbt.type_string() }}) as customer_id
    from products
    union all
    select
        'sessions' as table_name,
        _source_file,
        _source_row,
        session_id as key_id,
        cast(null as {{ dbt.type_string() }}) as order_id,
        customer_id
    from sessions
)

select * from final
