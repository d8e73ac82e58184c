-- Every customer with a kept order: metrics and features as of the analysis date. The
-- input of the fit (the Python models), the SQL scoring (customer_segments), the drift
-- check and the customer marts. Customers whose orders were all cancelled (frequency 0)
-- are left out: they have no recency, tenure or order value to segment on, and filling
-- those with the mean would make them look like average customers. dim_customers still
-- shows them (has_order, not is_buyer) and segmentation_runs counts them.
with

customers_with_orders as (
    select * from {{ ref('int_customers_with_orders_current') }}
),

final as (
    select * from customers_with_orders
    where frequency > 0
)

select * from final
