-- One row per customer with at least one kept order: the numeric inputs the segmentation
-- may use (var segmentation_features picks them), as of the analysis date. The features
-- are defined in int_customer_features; the web-session features are shown here whether or
-- not the segmentation uses them.
with

customer_features as (
    select * from {{ ref('int_customer_features_current') }}
),

customer_sessions as (
    select * from {{ ref('int_sessions_aggregated_to_customers') }}
),

final as (
    select
        customer_features.customer_id,
        customer_features.recency_days,
        customer_features.frequency,
        customer_features.monetary,
        customer_features.avg_order_value,
        customer_features.return_rate_units,
        customer_features.return_rate_orders,
        customer_features.return_rate_value,
        customer_features.discount_share,
        customer_features.tenure_days,
        customer_features.avg_days_between_orders,
        customer_features.category_breadth,
        cast(coalesce(customer_sessions.session_count, 0) as integer) as session_count,
        {{ session_conversion_rate(
            'customer_features.frequency', 'customer_sessions.session_count'
        ) }} as session_conversion_rate
    from customer_features
    left join customer_sessions
        on customer_features.customer_id = customer_sessions.customer_id
)

select * from final
