-- One row per kept order line: the line, its order (customer, time, status), its product's
-- category and everything returned of it. The one place where lines meet their orders,
-- products and returns; fct_order_items, int_returns_joined_to_order_items and
-- int_customer_daily_activity read it.
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

returns as (
    select * from {{ ref('stg_shop__returns') }}
),

returns_per_line as (
    select
        order_id,
        line_number,
        sum(quantity) as returned_quantity,
        sum(refund_amount) as refund_amount,
        min(returned_at) as first_returned_at
    from returns
    group by order_id, line_number
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
        cast(coalesce(returns_per_line.returned_quantity, 0) as integer) as returned_quantity,
        cast(coalesce(returns_per_line.refund_amount, 0) as {{ type_money() }})
            as refund_amount,
        cast(
            order_items.net_amount - coalesce(returns_per_line.refund_amount, 0)
            as {{ type_money() }}
        ) as net_amount_after_returns,
        returns_per_line.order_id is not null as has_return,
        orders.ordered_at,
        orders.ordered_date,
        returns_per_line.first_returned_at
    from order_items
    inner join orders
        on order_items.order_id = orders.order_id
    left join products
        on order_items.product_id = products.product_id
    left join returns_per_line
        on
            order_items.order_id = returns_per_line.order_id
            and order_items.line_number = returns_per_line.line_number
)

select * from final
