-- Every customer with an order, kept or cancelled: metrics and features as of the analysis
-- date (int_customer_features, snapshot set `current`), computed once for the two readers:
-- int_customer_features_current keeps the customers with a kept order (the segmentation's
-- input), dim_customers shows them all (has_order, is_buyer).
with

customer_features as (
    select * from {{ ref('int_customer_features') }}
),

final as (
    select * from customer_features
    where snapshot_set = 'current'
)

select * from final
