-- Return behaviour per customer with at least one kept order: units, orders and value
-- returned, the three return rates, and the most frequent reason and category returned.
with

customer_orders as (
    select * from {{ ref('int_customer_features_current') }}
),

analysis_date as (
    select * from {{ ref('int_analysis_date') }}
),

all_returns as (
    select * from {{ ref('int_returns_joined_to_order_items') }}
),

returns as (
    -- the returns the metrics count: those before the analysis date
    select all_returns.*
    from all_returns
    inner join analysis_date
        on all_returns.returned_date < analysis_date.as_of_date
),

reason_ranked as (
    select
        customer_id,
        return_reason,
        row_number() over (
            partition by customer_id
            order by sum(quantity) desc, count(*) desc, return_reason asc
        ) as reason_rank
    from returns
    group by customer_id, return_reason
),

category_ranked as (
    select
        customer_id,
        category,
        row_number() over (
            partition by customer_id
            order by sum(quantity) desc, count(*) desc, category asc
        ) as category_rank
    from returns
    group by customer_id, category
),

final as (
    select
        customer_orders.customer_id,
        cast(customer_orders.frequency as integer) as orders,
        cast(customer_orders.units_sold as bigint) as units_sold,
        cast(customer_orders.units_returned as bigint) as units_returned,
        {{ safe_divide('customer_orders.units_returned', 'customer_orders.units_sold') }}
            as return_rate_units,
        cast(customer_orders.orders_with_return as integer) as orders_with_return,
        {{ safe_divide('customer_orders.orders_with_return', 'customer_orders.frequency') }}
            as return_rate_orders,
        customer_orders.net_sales as value_sold,
        customer_orders.refund_amount as value_refunded,
        {{ safe_divide('customer_orders.refund_amount', 'customer_orders.net_sales') }}
            as return_rate_value,
        customer_orders.units_returned > 0 as has_returned,
        reason_ranked.return_reason as top_return_reason,
        category_ranked.category as top_returned_category
    from customer_orders
    left join reason_ranked
        on
            customer_orders.customer_id = reason_ranked.customer_id
            and reason_ranked.reason_rank = 1
    left join category_ranked
        on
            customer_orders.customer_id = category_ranked.customer_id
            and category_ranked.category_rank = 1
)

select * from final
