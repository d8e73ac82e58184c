-- One row per customer with at least one kept order: the numeric inputs the segmentation
-- may use (var segmentation_features picks them). Adding a feature = one column in the macro
-- customer_order_feature_columns (so that int_segmentation_features, which the fit reads,
-- and the monthly trends get it too) + its name in the var.
with

customer_orders as (
    select * from {{ ref('int_orders_aggregated_to_customers') }}
),

customer_sessions as (
    select * from {{ ref('int_sessions_aggregated_to_customers') }}
),

final as (
    select
        customer_orders.customer_id,
        {{ customer_feature_columns('customer_orders', 'customer_sessions') }}
    from customer_orders
    left join customer_sessions
        on
            customer_orders.customer_id = customer_sessions.customer_id
            and customer_orders.as_of_date = customer_sessions.as_of_date
)

select * from final
