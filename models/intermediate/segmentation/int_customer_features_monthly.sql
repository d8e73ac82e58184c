-- Every customer's metrics and features as of each month end of the trend window (the same
-- columns as int_customer_features_current), for segment_trends and segment_migration.
with

customer_features as (
    select * from {{ ref('int_customer_features') }}
),

final as (
    select * from customer_features
    where snapshot_set = 'month_end'
)

select * from final
