-- One row per kept order with its totals and returns.
with

orders as (
    select * from {{ ref('int_orders_summarised') }}
),

returns as (
    select * from {{ ref('stg_shop__returns') }}
),

return_totals as (
    select
        order_id,
        sum(quantity) as returned_units,
        sum(refund_amount) as refund_amount
    from returns
    group by order_id
),

final as (
    select
        orders.order_id,
        orders.customer_id,
        orders.order_status,
        orders.sales_channel,
        orders.is_cancelled,
        orders.is_purchase,
        coalesce(return_totals.returned_units, 0) > 0 as has_return,
        cast(orders.line_count as integer) as line_count,
        cast(orders.units as bigint) as units,
        cast(coalesce(return_totals.returned_units, 0) as bigint) as returned_units,
        orders.gross_amount,
        orders.discount_amount,
        orders.net_amount,
        cast(coalesce(return_totals.refund_amount, 0) as {{ type_money() }}) as refund_amount,
        cast(
            orders.net_amount - coalesce(return_totals.refund_amount, 0) as {{ type_money() }}
        ) as net_amount_after_returns,
        orders.ordered_at,
        orders.ordered_date
    from orders
    left join return_totals
        on orders.order_id = return_totals.order_id
)

select * from final
