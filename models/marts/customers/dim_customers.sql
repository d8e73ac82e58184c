-- The unified customer: one row per kept customer with demographics (bands only, no raw
-- personal data), first and last order, lifetime value, RFM and return metrics.
with

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

country_regions as (
    select * from {{ ref('country_regions') }}
),

analysis_date as (
    select * from {{ ref('int_analysis_date') }}
),

customer_orders as (
    -- every customer with an order, also those whose orders were all cancelled (the
    -- segmentation's int_customer_features_current leaves them out)
    select * from {{ ref('int_customers_with_orders_current') }}
),

customer_sessions as (
    select * from {{ ref('int_sessions_aggregated_to_customers') }}
),

rfm as (
    select * from {{ ref('customer_rfm') }}
),

customer_returns as (
    select * from {{ ref('customer_returns') }}
),

final as (
    select
        customers.customer_id,
        customers.email_hash,
        coalesce(customers.gender, 'unknown') as gender,
        coalesce(
            {{ age_band('customers.birth_date', 'analysis_date.as_of_date') }}, 'unknown'
        ) as age_band,
        coalesce(customers.country_code, 'unknown') as country_code,
        coalesce(country_regions.region, 'unknown') as region,
        coalesce(customers.acquisition_channel, 'unknown') as acquisition_channel,
        customer_orders.customer_id is not null as has_order,
        coalesce(customer_orders.frequency, 0) > 0 as is_buyer,
        cast(coalesce(customer_orders.orders_placed, 0) as integer) as orders_placed,
        cast(coalesce(customer_orders.orders_cancelled, 0) as integer) as orders_cancelled,
        cast(coalesce(customer_orders.frequency, 0) as integer) as frequency,
        cast(coalesce(customer_orders.units_sold, 0) as bigint) as units_sold,
        cast(coalesce(customer_orders.net_sales, 0) as {{ type_money() }}) as net_sales,
        cast(coalesce(customer_orders.refund_amount, 0) as {{ type_money() }})
            as refund_amount,
        cast(coalesce(customer_orders.monetary, 0) as {{ type_money() }}) as monetary,
        rfm.recency_days,
        rfm.r_score,
        rfm.f_score,
        rfm.m_score,
        rfm.rfm_score,
        rfm.rfm_segment,
        customer_returns.return_rate_units,
        customer_returns.return_rate_orders,
        customer_returns.return_rate_value,
        customer_returns.top_return_reason,
        cast(coalesce(customer_sessions.session_count, 0) as integer) as session_count,
        customers.signup_at,
        customer_orders.first_order_at,
        customer_orders.last_order_at,
        cast(customer_orders.first_order_at as date) as first_order_date,
        cast(customer_orders.last_order_at as date) as last_order_date
    from customers
    cross join analysis_date
    left join country_regions
        on customers.country_code = country_regions.country_code
    left join customer_orders
        on customers.customer_id = customer_orders.customer_id
    left join customer_sessions
        on customers.customer_id = customer_sessions.customer_id
    left join rfm
        on customers.customer_id = rfm.customer_id
    left join customer_returns
        on customers.customer_id = customer_returns.customer_id
)

select * from final
