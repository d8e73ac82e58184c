-- One row per kept order (cancelled ones too, flagged): its line totals (units, gross,
-- discount, net); orders without any kept line have zero totals. An order is a purchase when
-- it is not cancelled and has at least one kept line: an order whose lines were all
-- quarantined (or that came without lines) is not one, so it counts in no frequency. No
-- returns (fct_orders adds them). Read by fct_orders, segment_trends and the daily activity.
with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

order_items as (
    select * from {{ ref('stg_shop__order_items') }}
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

final as (
    select
        orders.order_id,
        orders.customer_id,
        orders.order_status,
        orders.sales_channel,
        orders.is_cancelled,
        not orders.is_cancelled and line_totals.line_count is not null as is_purchase,
        cast(coalesce(line_totals.line_count, 0) as integer) as line_count,
        cast(coalesce(line_totals.units, 0) as bigint) as units,
        cast(coalesce(line_totals.gross_amount, 0) as {{ type_money() }}) as gross_amount,
        cast(coalesce(line_totals.discount_amount, 0) as {{ type_money() }})
            as discount_amount,
        cast(coalesce(line_totals.net_amount, 0) as {{ type_money() }}) as net_amount,
        orders.ordered_at,
        orders.ordered_date
    from orders
    left join line_totals
        on orders.order_id = line_totals.order_id
)

select * from final
