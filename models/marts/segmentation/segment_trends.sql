-- Per month end of the trend window and segment (current model, every customer re-scored
-- as of that month end): customers, new customers, orders and net sales of the month, and the
-- segment's return rates to date.
with

snapshots as (
    select * from {{ ref('int_trend_snapshots') }}
),

monthly_segments as {{ not_materialized(true) }} (
    -- read by both steps below, each for its own columns: not kept in memory as a whole
    select * from {{ ref('int_customer_segments_monthly') }}
),

orders as (
    select * from {{ ref('int_orders_summarised') }}
    where is_purchase
),

segment_customers as (
    -- the customers' totals at each month end (int_customer_segments_monthly carries them)
    select
        monthly_segments.as_of_date,
        monthly_segments.segment_id,
        monthly_segments.segment_name,
        count(*) as customers,
        sum(
            case when monthly_segments.first_order_at >= snapshots.month_start_at then 1 else 0 end
        ) as new_customers,
        sum(monthly_segments.units_sold) as units_sold,
        sum(monthly_segments.units_returned) as units_returned,
        sum(monthly_segments.orders_with_return) as orders_with_return,
        sum(monthly_segments.frequency) as frequency,
        sum(monthly_segments.net_sales) as net_sales,
        sum(monthly_segments.refund_amount) as refund_amount
    from monthly_segments
    inner join snapshots
        on monthly_segments.as_of_date = snapshots.as_of_date
    group by monthly_segments.as_of_date, monthly_segments.segment_id, monthly_segments.segment_name
),

order_months as (
    -- each order with the snapshot it falls in: the first day of the month after it
    select
        customer_id,
        net_amount,
        cast(
            {{ dbt.dateadd('month', 1, dbt.date_trunc('month', 'ordered_at')) }} as date
        ) as as_of_date
    from orders
),

segment_month_orders as (
    -- an equality join on the snapshot date (a range join on the order time let DuckDB
    -- join the orders to every month end of their customer first)
    select
        monthly_segments.as_of_date,
        monthly_segments.segment_id,
        count(*) as orders,
        sum(order_months.net_amount) as net_sales
    from order_months
    inner join snapshots
        on order_months.as_of_date = snapshots.as_of_date
    inner join monthly_segments
        on
            order_months.as_of_date = monthly_segments.as_of_date
            and order_months.customer_id = monthly_segments.customer_id
    group by monthly_segments.as_of_date, monthly_segments.segment_id
),

final as (
    select
        snapshots.month_end_date,
        cast(segment_customers.segment_id as integer) as segment_id,
        segment_customers.segment_name,
        cast(segment_customers.customers as bigint) as customers,
        cast(segment_customers.new_customers as bigint) as new_customers,
        cast(coalesce(segment_month_orders.orders, 0) as bigint) as orders,
        cast(coalesce(segment_month_orders.net_sales, 0) as {{ type_money() }}) as net_sales,
        {{ safe_divide('segment_customers.units_returned', 'segment_customers.units_sold') }}
            as returned_units_share,
        {{ safe_divide('segment_customers.orders_with_return', 'segment_customers.frequency') }}
            as orders_with_return_share,
        {{ safe_divide('segment_customers.refund_amount', 'segment_customers.net_sales') }}
            as refunded_value_share
    from segment_customers
    inner join snapshots
        on segment_customers.as_of_date = snapshots.as_of_date
    left join segment_month_orders
        on
            segment_customers.as_of_date = segment_month_orders.as_of_date
            and segment_customers.segment_id = segment_month_orders.segment_id
)

select * from final
