-- One row per kept order: line totals (units, gross, discount, net) and returns.
-- Orders without any kept line still appear, with zero totals.
-- Reads the staged lines and returns directly (not int_order_items_joined_to_returns): the
-- order totals need no line-level join, so the customer features do not wait for one.
with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

order_items as (
    select * from {{ ref('stg_shop__order_items') }}
),

returns as (
    select * from {{ ref('stg_shop__returns') }}
),

line_totals as (
    select
        order_id,
        count(*) as line_count,
        sum(quantity) as units,
        sum(gross_amount) as gross_amount,
        sum(discount_amount) as discount_amount,
        sum(net_amount) as net_amount
    from order_items
    group by order_id
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
        cast(coalesce(line_totals.line_count, 0) as integer) as line_count,
        cast(coalesce(line_totals.units, 0) as bigint) as units,
        cast(coalesce(line_totals.gross_amount, 0) as {{ type_money() }}) as gross_amount,
        cast(coalesce(line_totals.discount_amount, 0) as {{ type_money() }})
            as discount_amount,
        cast(coalesce(line_totals.net_amount, 0) as {{ type_money() }}) as net_amount,
        cast(coalesce(return_totals.returned_units, 0) as bigint) as returned_units,
        cast(coalesce(return_totals.refund_amount, 0) as {{ type_money() }}) as refund_amount,
        coalesce(return_totals.returned_units, 0) > 0 as has_return,
        orders.ordered_at,
        orders.ordered_date
    from orders
    left join line_totals
        on orders.order_id = line_totals.order_id
    left join return_totals
        on orders.order_id = return_totals.order_id
)

select * from final
