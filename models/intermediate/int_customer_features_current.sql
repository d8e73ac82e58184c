-- Every customer with a kept order: metrics and features as of the analysis date. The
-- input of the fit (the Python models), the SQL scoring (customer_segments), the drift
-- check and the customer marts.
with

customer_features as (
    select * from {{ ref('int_customer_features') }}
),

final as (
    select * from customer_features
    where snapshot_set = 'current'
)

select * from final
