-- One row per kept order line with its order, its product category and everything returned
-- of it: returned units, refunded value, net value after returns.
with

order_lines as (
    {{ staged_order_lines(order_columns=['order_status', 'ordered_date']) }}
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

joined as (
    select
        order_lines.order_id,
        order_lines.line_number,
        order_lines.customer_id,
        order_lines.product_id,
        order_lines.category,
        order_lines.order_status,
        order_lines.is_cancelled,
        order_lines.quantity,
        order_lines.unit_price,
        order_lines.gross_amount,
        order_lines.discount_amount,
        order_lines.net_amount,
        cast(coalesce(returns_per_line.returned_quantity, 0) as integer) as returned_quantity,
        cast(coalesce(returns_per_line.refund_amount, 0) as {{ type_money() }})
            as refund_amount,
        cast(
            order_lines.net_amount - coalesce(returns_per_line.refund_amount, 0)
            as {{ type_money() }}
        ) as net_amount_after_returns,
        returns_per_line.order_id is not null as has_return,
        order_lines.ordered_at,
        order_lines.ordered_date,
        returns_per_line.first_returned_at
    from order_lines
    left join returns_per_line
        on
            order_lines.order_id = returns_per_line.order_id
            and order_lines.line_number = returns_per_line.line_number
)

select * from joined
