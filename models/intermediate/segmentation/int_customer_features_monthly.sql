-- Every customer's features as of each month end of the trend window, with the same
-- macros as customer_features (so trends score exactly what the model was fitted on). As in
-- int_segmentation_features, the web sessions (session_count, session_conversion_rate) join
-- only when var segmentation_features uses one of them: at 10M customers they are 116M
-- sessions and a second running total per customer and month end that nothing else reads.
{%- set uses_sessions = segmentation_uses_sessions() %}
{%- set comma = ',' if uses_sessions else '' %}
with

customer_orders as (
    {{ customer_order_metrics(ref('int_trend_snapshots')) }}
),
{%- if uses_sessions %}

customer_sessions as (
    {{ customer_session_metrics(ref('int_trend_snapshots')) }}
),
{%- endif %}

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
        {{ customer_order_feature_columns('customer_orders') }}{{ comma }} -- noqa: LT02
        {%- if uses_sessions %}
        {{ customer_session_feature_columns('customer_orders', 'customer_sessions') }}
        {%- endif %}
    from customer_orders
    {%- if uses_sessions %}
    left join customer_sessions
        on
            customer_orders.as_of_date = customer_sessions.as_of_date
            and customer_orders.customer_id = customer_sessions.customer_id
    {%- endif %}
)

select * from final
