-- Every customer's features as of each month end of the trend window, with the same
-- macros as customer_features (so trends score exactly what the model was fitted on).
with

customer_orders as (
    {{ customer_order_metrics(ref('int_trend_snapshots')) }}
),

customer_sessions as (
    {{ customer_session_metrics(ref('int_trend_snapshots')) }}
),

final as (
    select
        customer_orders.as_of_date,
        customer_orders.customer_id,
        customer_orders.first_order_at,
        customer_orders.units_sold,
        customer_orders.units_returned,
        customer_orders.orders_with_return,
        customer_orders.net_sales,
        customer_orders.refund_amount,
        {{ customer_feature_columns('customer_orders', 'customer_sessions') }}
    from customer_orders
    left join customer_sessions
        on
            customer_orders.as_of_date = customer_sessions.as_of_date
            and customer_orders.customer_id = customer_sessions.customer_id
)

select * from final
