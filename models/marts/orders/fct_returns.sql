-- One row per kept return with the returned line's customer, product and reason group.
with

returns as (
    select * from {{ ref('int_returns_joined_to_order_items') }}
),

reason_groups as (
    select * from {{ ref('return_reason_groups') }}
),

final as (
    select
        returns.return_id,
        returns.order_id,
        cast(returns.line_number as integer) as line_number,
        returns.customer_id,
        returns.product_id,
        returns.category,
        returns.return_reason,
        coalesce(reason_groups.reason_group, 'other') as return_reason_group,
        cast(returns.quantity as integer) as quantity,
        returns.refund_amount,
        returns.is_refund_estimated,
        {{ days_between('returns.ordered_at', 'returns.returned_at') }} as days_to_return,
        returns.returned_at,
        returns.returned_date
    from returns
    left join reason_groups
        on returns.return_reason = reason_groups.return_reason
)

select * from final
