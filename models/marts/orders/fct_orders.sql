-- One row per kept order with its totals and returns.
with

orders as (
    select * from {{ ref('int_orders_summarised') }}
),

final as (
    select
        order_id,
        customer_id,
        order_status,
        sales_channel,
        is_cancelled,
        has_return,
        cast(line_count as integer) as line_count,
        cast(units as bigint) as units,
        cast(returned_units as bigint) as returned_units,
        gross_amount,
        discount_amount,
        net_amount,
        refund_amount,
        cast(net_amount - refund_amount as {{ type_money() }}) as net_amount_after_returns,
        ordered_at,
        ordered_date
    from orders
)

select * from final
