-- Every customer's metrics and features as of each month end of the trend window (the same
-- columns as int_customer_features_current), for segment_trends and segment_migration.
-- As there, only customers with a kept order by that month end (frequency > 0).
with

customer_features as (
    select * from {{ ref('int_customer_features') }}
),

final as (
    select * from customer_features
    where
        snapshot_set = 'month_end'
        and frequency > 0
)

select * from final
