-- One row per kept order line: the line, its order (customer, time, status) and its product's
-- category. The one place where lines meet their orders and products; fct_order_items (which
-- adds the line's returns and which the segment marts read), int_returns_joined_to_order_items
-- and int_customer_daily_activity read it.
with

order_items as (
    select * from {{ ref('stg_shop__order_items') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

products as (
    select * from {{ ref('stg_shop__products') }}
),

final as (
    select
        order_items.order_id,
        order_items.line_number,
        orders.customer_id,
        order_items.product_id,
        coalesce(products.category, 'unknown') as category,
        orders.order_status,
        orders.is_cancelled,
        order_items.quantity,
        order_items.unit_price,
        order_items.gross_amount,
        order_items.discount_amount,
        order_items.net_amount,
        orders.ordered_at,
        orders.ordered_date,
        -- the build that wrote the line's base row (the key test reads the latest build's)
        order_items._built_at
    from order_items
    inner join orders
        on order_items.order_id = orders.order_id
    left join products
        on order_items.product_id = products.product_id
)

select * from final
