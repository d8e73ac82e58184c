-- One row per kept return with the customer, order time and category of the returned line.
-- Every kept return is on a kept line of a kept order (base_shop__returns checks it).
with

returns as (
    select * from {{ ref('stg_shop__returns') }}
),

order_lines as (
    select * from {{ ref('int_order_lines') }}
),

final as (
    select
        returns.return_id,
        returns.order_id,
        returns.line_number,
        order_lines.customer_id,
        order_lines.product_id,
        order_lines.category,
        returns.return_reason,
        returns.quantity,
        returns.refund_amount,
        returns.is_refund_estimated,
        order_lines.ordered_at,
        returns.returned_at,
        returns.returned_date
    from returns
    inner join order_lines
        on
            returns.order_id = order_lines.order_id
            and returns.line_number = order_lines.line_number
)

select * from final
