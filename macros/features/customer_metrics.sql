{#-
    Customer metrics as of one or more analysis dates. The same macros build today's customer
    marts (one snapshot: the analysis date) and the monthly trend marts (one snapshot per
    month end), so "as of a date" always means the same thing: events strictly before the
    snapshot date. `snapshots` is a relation or subquery with one column, as_of_date.
-#}

{% macro customer_order_metrics(snapshots) -%}
with

snapshot_dates as (
    select
        as_of_date,
        cast(as_of_date as {{ dbt.type_timestamp() }}) as as_of_at
    from {{ snapshots }}
),

orders as (
    select * from {{ ref('int_orders_summarised') }}
),

returns as (
    select * from {{ ref('int_returns_joined_to_order_items') }}
),

purchased_categories as (
    select
        customer_id,
        category,
        min(ordered_at) as first_bought_at
    from {{ ref('int_order_items_joined_to_returns') }}
    where not is_cancelled
    group by customer_id, category
),

order_totals as (
    select
        snapshot_dates.as_of_date,
        orders.customer_id,
        count(*) as orders_placed,
        sum(case when orders.is_cancelled then 1 else 0 end) as orders_cancelled,
        sum(case when orders.is_cancelled then 0 else 1 end) as frequency,
        min(case when not orders.is_cancelled then orders.ordered_at end) as first_order_at,
        max(case when not orders.is_cancelled then orders.ordered_at end) as last_order_at,
        sum(case when orders.is_cancelled then 0 else orders.units end) as units_sold,
        sum(case when orders.is_cancelled then 0 else orders.gross_amount end)
            as gross_amount,
        sum(case when orders.is_cancelled then 0 else orders.discount_amount end)
            as discount_amount,
        sum(case when orders.is_cancelled then 0 else orders.net_amount end) as net_sales
    from orders
    inner join snapshot_dates
        on orders.ordered_at < snapshot_dates.as_of_at
    group by snapshot_dates.as_of_date, orders.customer_id
),

return_totals as (
    select
        snapshot_dates.as_of_date,
        returns.customer_id,
        count(distinct returns.order_id) as orders_with_return,
        sum(returns.quantity) as units_returned,
        sum(returns.refund_amount) as refund_amount
    from returns
    inner join snapshot_dates
        on returns.returned_at < snapshot_dates.as_of_at
    group by snapshot_dates.as_of_date, returns.customer_id
),

category_totals as (
    select
        snapshot_dates.as_of_date,
        purchased_categories.customer_id,
        count(*) as category_breadth
    from purchased_categories
    inner join snapshot_dates
        on purchased_categories.first_bought_at < snapshot_dates.as_of_at
    group by snapshot_dates.as_of_date, purchased_categories.customer_id
),

final as (
    select
        order_totals.as_of_date,
        order_totals.customer_id,
        cast(order_totals.orders_placed as integer) as orders_placed,
        cast(order_totals.orders_cancelled as integer) as orders_cancelled,
        cast(order_totals.frequency as integer) as frequency,
        order_totals.first_order_at,
        order_totals.last_order_at,
        cast(coalesce(order_totals.units_sold, 0) as bigint) as units_sold,
        cast(coalesce(return_totals.units_returned, 0) as bigint) as units_returned,
        cast(coalesce(return_totals.orders_with_return, 0) as integer) as orders_with_return,
        cast(coalesce(order_totals.gross_amount, 0) as {{ type_money() }}) as gross_amount,
        cast(coalesce(order_totals.discount_amount, 0) as {{ type_money() }})
            as discount_amount,
        cast(coalesce(order_totals.net_sales, 0) as {{ type_money() }}) as net_sales,
        cast(coalesce(return_totals.refund_amount, 0) as {{ type_money() }}) as refund_amount,
        cast(
            coalesce(order_totals.net_sales, 0) - coalesce(return_totals.refund_amount, 0)
            as {{ type_money() }}
        ) as monetary,
        cast(coalesce(category_totals.category_breadth, 0) as integer) as category_breadth
    from order_totals
    left join return_totals
        on
            order_totals.as_of_date = return_totals.as_of_date
            and order_totals.customer_id = return_totals.customer_id
    left join category_totals
        on
            order_totals.as_of_date = category_totals.as_of_date
            and order_totals.customer_id = category_totals.customer_id
)

select * from final
{%- endmacro %}


{% macro customer_session_metrics(snapshots) -%}
with

snapshot_dates as (
    select
        as_of_date,
        cast(as_of_date as {{ dbt.type_timestamp() }}) as as_of_at
    from {{ snapshots }}
),

sessions as (
    select * from {{ ref('stg_shop__sessions') }}
    where not is_anonymous
),

final as (
    select
        snapshot_dates.as_of_date,
        sessions.customer_id,
        cast(count(*) as integer) as session_count,
        cast(sum(sessions.page_views) as bigint) as page_views,
        cast(sum(sessions.product_views) as bigint) as product_views,
        cast(sum(sessions.cart_adds) as bigint) as cart_adds,
        cast(sum(case when sessions.cart_adds > 0 then 1 else 0 end) as integer)
            as sessions_with_cart_add,
        max(sessions.started_at) as last_session_at
    from sessions
    inner join snapshot_dates
        on sessions.started_at < snapshot_dates.as_of_at
    group by snapshot_dates.as_of_date, sessions.customer_id
)

select * from final
{%- endmacro %}


{% macro customer_feature_columns(orders, sessions) -%}
    {#- The model's numeric inputs, from the two metric relations joined on
        (as_of_date, customer_id). Documented in models/marts/customers/_customers__docs.md. -#}
        {{ dbt.datediff('cast(' ~ orders ~ '.last_order_at as date)',
                        orders ~ '.as_of_date', 'day') }} as recency_days,
        {{ orders }}.frequency,
        {{ orders }}.monetary,
        {{ safe_divide(orders ~ '.net_sales', orders ~ '.frequency') }} as avg_order_value,
        {{ safe_divide(orders ~ '.units_returned', orders ~ '.units_sold') }}
            as return_rate_units,
        {{ safe_divide(orders ~ '.orders_with_return', orders ~ '.frequency') }}
            as return_rate_orders,
        {{ safe_divide(orders ~ '.refund_amount', orders ~ '.net_sales') }}
            as return_rate_value,
        {{ safe_divide(orders ~ '.discount_amount', orders ~ '.gross_amount') }}
            as discount_share,
        {{ dbt.datediff('cast(' ~ orders ~ '.first_order_at as date)',
                        orders ~ '.as_of_date', 'day') }} as tenure_days,
        {{ safe_divide(
            dbt.datediff('cast(' ~ orders ~ '.first_order_at as date)',
                         'cast(' ~ orders ~ '.last_order_at as date)', 'day'),
            orders ~ '.frequency - 1') }} as avg_days_between_orders,
        {{ orders }}.category_breadth,
        cast(coalesce({{ sessions }}.session_count, 0) as integer) as session_count,
        case
            when {{ sessions }}.session_count > 0
                then least(
                    {{ safe_divide(orders ~ '.frequency', sessions ~ '.session_count') }}, 1.0
                )
        end as session_conversion_rate
{%- endmacro %}
