-- The segmentation's candidate features, defined once: every customer's metrics and
-- features as of every snapshot date (today's and each month end's). The fit, the SQL
-- scoring, customer_features and the monthly trends all read these columns, through
-- int_customer_features_current (snapshot_set = 'current') and
-- int_customer_features_monthly ('month_end'). Adding a feature: one column in the
-- features of `final` below plus its name in var segmentation_features (README, "Adding a
-- feature").
-- A view, so that each of those two tables computes only its own snapshot set.
{%- set uses_sessions = segmentation_uses_sessions() %}
with

customer_metrics as (
    select * from {{ ref('int_customer_metrics') }}
),

final as (
    select
        snapshot_set,
        customer_id,
        -- metrics the marts read
        orders_placed,
        orders_cancelled,
        first_order_at,
        last_order_at,
        units_sold,
        units_returned,
        orders_with_return,
        gross_amount,
        discount_amount,
        net_sales,
        refund_amount,
        -- features: one expression over the metrics each; a new one goes here, and its name
        -- into var segmentation_features
        {{ days_between('cast(last_order_at as date)', 'as_of_date') }} as recency_days,
        frequency,
        monetary,
        {{ safe_divide('net_sales', 'frequency') }} as avg_order_value,
        {{ safe_divide('units_returned', 'units_sold') }} as return_rate_units,
        {{ safe_divide('orders_with_return', 'frequency') }} as return_rate_orders,
        {{ safe_divide('refund_amount', 'net_sales') }} as return_rate_value,
        {{ safe_divide('discount_amount', 'gross_amount') }} as discount_share,
        {{ days_between('cast(first_order_at as date)', 'as_of_date') }} as tenure_days,
        {{ safe_divide(
            dbt.datediff('cast(first_order_at as date)', 'cast(last_order_at as date)', 'day'),
            'frequency - 1'
        ) }} as avg_days_between_orders,
        category_breadth,
        {%- if uses_sessions %}
        -- web-session features (only when var segmentation_features uses one)
        session_count,
        {{ session_conversion_rate('frequency', 'session_count') }} as session_conversion_rate,
        {%- endif %}
        as_of_date
    from customer_metrics
)

select * from final
