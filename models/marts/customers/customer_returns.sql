-- Return behaviour per customer with at least one kept order: units, orders and value
-- returned, the three return rates, and the most frequent reason and category returned.
--
-- Incremental, like int_customer_totals_current: a customer's row changes only when their
-- days do (int_customers_changed) or when the analysis date moves over one of their days
-- (customers_summed_again), so a build deletes those customers' rows (pre-hook) and computes
-- them again; every other row stays. The first build, --full-refresh and a change of the
-- code upstream or of the vars it depends on compute every customer.
-- depends_on: {{ ref('int_customers_changed') }}
-- depends_on: {{ ref('int_customer_daily_activity') }}
-- depends_on: {{ ref('int_snapshot_dates') }}
{{ config(
    materialized=materialized_incrementally(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_customers(customers_summed_again(
        ref('int_customers_changed'), ref('int_customer_daily_activity'),
        ref('int_snapshot_dates'), session_columns=false
    )) }}",
    post_hook="{{ record_applied_files(
        snapshot_dates=ref('int_snapshot_dates'), snapshot_set='current'
    ) }}",
) }}
{%- set summed_again = customers_summed_again(
    ref('int_customers_changed'), ref('int_customer_daily_activity'), ref('int_snapshot_dates'),
    session_columns=false
) %}
{{- require_parents_selected([
    'int_customer_daily_activity', 'int_customers_changed', 'int_snapshot_dates',
    'int_returns_joined_to_order_items', 'int_customers_with_orders_current',
]) }}
with

customer_orders as (
    select * from {{ ref('int_customer_features_current') }}
    {%- if summed_again %}
        where customer_id in ({{ summed_again }})
    {%- endif %}
),

analysis_date as (
    select * from {{ ref('int_analysis_date') }}
),

all_returns as (
    select * from {{ ref('int_returns_joined_to_order_items') }}
    {%- if summed_again %}
        where customer_id in ({{ summed_again }})
    {%- endif %}
),

returns as (
    -- the returns the metrics count: those before the analysis date
    select all_returns.*
    from all_returns
    inner join analysis_date
        on all_returns.returned_date < analysis_date.as_of_date
),

reason_ranked as (
    select
        customer_id,
        return_reason,
        row_number() over (
            partition by customer_id
            order by sum(quantity) desc, count(*) desc, return_reason asc
        ) as reason_rank
    from returns
    group by customer_id, return_reason
),

category_ranked as (
    select
        customer_id,
        category,
        row_number() over (
            partition by customer_id
            order by sum(quantity) desc, count(*) desc, category asc
        ) as category_rank
    from returns
    group by customer_id, category
),

final as (
    select
        customer_orders.customer_id,
        cast(customer_orders.frequency as integer) as orders,
        cast(customer_orders.units_sold as bigint) as units_sold,
        cast(customer_orders.units_returned as bigint) as units_returned,
        {{ safe_divide('customer_orders.units_returned', 'customer_orders.units_sold') }}
            as return_rate_units,
        cast(customer_orders.orders_with_return as integer) as orders_with_return,
        {{ safe_divide('customer_orders.orders_with_return', 'customer_orders.frequency') }}
            as return_rate_orders,
        customer_orders.net_sales as value_sold,
        customer_orders.refund_amount as value_refunded,
        {{ safe_divide('customer_orders.refund_amount', 'customer_orders.net_sales') }}
            as return_rate_value,
        customer_orders.units_returned > 0 as has_returned,
        reason_ranked.return_reason as top_return_reason,
        category_ranked.category as top_returned_category
    from customer_orders
    left join reason_ranked
        on
            customer_orders.customer_id = reason_ranked.customer_id
            and reason_ranked.reason_rank = 1
    left join category_ranked
        on
            customer_orders.customer_id = category_ranked.customer_id
            and category_ranked.category_rank = 1
)

select * from final
