{#-
    Customer metrics as of one or more analysis dates. The same macros build today's customer
    marts (one snapshot: the analysis date) and the monthly trend marts (one snapshot per
    month end), so "as of a date" always means the same thing: events strictly before the
    snapshot date. `snapshots` is a relation or subquery with one column, as_of_date.

    Cost grows with events + customers x snapshots, not events x snapshots: each event goes
    to the first snapshot it counts in (its bucket), totals are summed per customer and
    bucket, and running totals over the snapshots give the state as of each one. Orders are
    assigned to their bucket once (a range join on orders); their lines and returns inherit
    it through an equality join on order_id.

    The metrics read the staged orders, lines and returns directly, not the order- and
    return-level join models of the marts (int_orders_summarised,
    int_returns_joined_to_order_items): the path from raw files to segments builds neither.
-#}

{% macro snapshot_buckets(snapshots) -%}
    {#- The snapshots with the start of the interval of events each one adds: an event at t
        belongs to the snapshot with previous_as_of_at <= t < as_of_at. -#}
    select
        as_of_date,
        cast(as_of_date as {{ dbt.type_timestamp() }}) as as_of_at,
        lag(cast(as_of_date as {{ dbt.type_timestamp() }})) over (order by as_of_date)
            as previous_as_of_at
    from {{ snapshots }}
{%- endmacro %}

{% macro in_bucket(event_at, buckets) -%}
    {{ event_at }} < {{ buckets }}.as_of_at
    and ({{ buckets }}.previous_as_of_at is null or {{ event_at }} >= {{ buckets }}.previous_as_of_at)
{%- endmacro %}


{% macro customer_order_metrics(snapshots) -%}
with

buckets as (
    {{ snapshot_buckets(snapshots) }}
),

bucketed_orders as (
    -- every kept order with the snapshot it first counts in (orders after the last snapshot
    -- count in none): the range join with the snapshots runs on orders, not on their lines
    select
        buckets.as_of_date,
        orders.order_id,
        orders.customer_id,
        orders.ordered_at,
        orders.is_cancelled
    from {{ ref('stg_shop__orders') }} as orders
    inner join buckets
        on {{ in_bucket('orders.ordered_at', 'buckets') }}
),

order_lines as (
    -- the lines of those orders, with their order's snapshot and their category
    {{ staged_order_lines('bucketed_orders', ['as_of_date']) }}
),

returns as (
    -- every kept return is on a kept line of a kept order (base_shop__returns checks it);
    -- its order gives the customer. A return is never before its order, so the returns of
    -- orders after the last snapshot count in no snapshot either way.
    select
        stg_returns.order_id,
        bucketed_orders.customer_id,
        stg_returns.quantity,
        stg_returns.refund_amount,
        stg_returns.returned_at
    from {{ ref('stg_shop__returns') }} as stg_returns
    inner join bucketed_orders
        on stg_returns.order_id = bucketed_orders.order_id
),

order_buckets as (
    select
        as_of_date,
        customer_id,
        count(*) as orders_placed,
        sum(case when is_cancelled then 1 else 0 end) as orders_cancelled,
        sum(case when is_cancelled then 0 else 1 end) as frequency,
        min(case when not is_cancelled then ordered_at end) as first_order_at,
        max(case when not is_cancelled then ordered_at end) as last_order_at
    from bucketed_orders
    group by as_of_date, customer_id
),

sales_buckets as (
    -- the lines of orders that were not cancelled, in their order's snapshot
    select
        as_of_date,
        customer_id,
        sum(quantity) as units_sold,
        sum(gross_amount) as gross_amount,
        sum(discount_amount) as discount_amount,
        sum(net_amount) as net_sales
    from order_lines
    where not is_cancelled
    group by as_of_date, customer_id
),

return_buckets as (
    select
        buckets.as_of_date,
        returns.customer_id,
        sum(returns.quantity) as units_returned,
        sum(returns.refund_amount) as refund_amount
    from returns
    inner join buckets
        on {{ in_bucket('returns.returned_at', 'buckets') }}
    group by buckets.as_of_date, returns.customer_id
),

first_return_per_order as (
    select
        customer_id,
        order_id,
        min(returned_at) as first_returned_at
    from returns
    group by customer_id, order_id
),

returned_order_buckets as (
    select
        buckets.as_of_date,
        first_return_per_order.customer_id,
        count(*) as orders_with_return
    from first_return_per_order
    inner join buckets
        on {{ in_bucket('first_return_per_order.first_returned_at', 'buckets') }}
    group by buckets.as_of_date, first_return_per_order.customer_id
),

first_purchase_per_category as (
    select
        customer_id,
        category,
        min(ordered_at) as first_bought_at
    from order_lines
    where not is_cancelled
    group by customer_id, category
),

category_buckets as (
    select
        buckets.as_of_date,
        first_purchase_per_category.customer_id,
        count(*) as new_categories
    from first_purchase_per_category
    inner join buckets
        on {{ in_bucket('first_purchase_per_category.first_bought_at', 'buckets') }}
    group by buckets.as_of_date, first_purchase_per_category.customer_id
),

customer_first_buckets as (
    select
        customer_id,
        min(as_of_date) as first_as_of_date
    from order_buckets
    group by customer_id
),

customer_snapshots as (
    -- every customer at every snapshot from the first one that sees an order of theirs
    select
        customer_first_buckets.customer_id,
        buckets.as_of_date
    from customer_first_buckets
    inner join buckets
        on buckets.as_of_date >= customer_first_buckets.first_as_of_date
),

running_totals as (
    select
        customer_snapshots.as_of_date,
        customer_snapshots.customer_id,
        sum(coalesce(order_buckets.orders_placed, 0)) over customer_history as orders_placed,
        sum(coalesce(order_buckets.orders_cancelled, 0)) over customer_history
            as orders_cancelled,
        sum(coalesce(order_buckets.frequency, 0)) over customer_history as frequency,
        min(order_buckets.first_order_at) over customer_history as first_order_at,
        max(order_buckets.last_order_at) over customer_history as last_order_at,
        sum(coalesce(sales_buckets.units_sold, 0)) over customer_history as units_sold,
        sum(coalesce(sales_buckets.gross_amount, 0)) over customer_history as gross_amount,
        sum(coalesce(sales_buckets.discount_amount, 0)) over customer_history
            as discount_amount,
        sum(coalesce(sales_buckets.net_sales, 0)) over customer_history as net_sales,
        sum(coalesce(return_buckets.units_returned, 0)) over customer_history
            as units_returned,
        sum(coalesce(return_buckets.refund_amount, 0)) over customer_history as refund_amount,
        sum(coalesce(returned_order_buckets.orders_with_return, 0)) over customer_history
            as orders_with_return,
        sum(coalesce(category_buckets.new_categories, 0)) over customer_history
            as category_breadth
    from customer_snapshots
    left join order_buckets
        on
            customer_snapshots.customer_id = order_buckets.customer_id
            and customer_snapshots.as_of_date = order_buckets.as_of_date
    left join sales_buckets
        on
            customer_snapshots.customer_id = sales_buckets.customer_id
            and customer_snapshots.as_of_date = sales_buckets.as_of_date
    left join return_buckets
        on
            customer_snapshots.customer_id = return_buckets.customer_id
            and customer_snapshots.as_of_date = return_buckets.as_of_date
    left join returned_order_buckets
        on
            customer_snapshots.customer_id = returned_order_buckets.customer_id
            and customer_snapshots.as_of_date = returned_order_buckets.as_of_date
    left join category_buckets
        on
            customer_snapshots.customer_id = category_buckets.customer_id
            and customer_snapshots.as_of_date = category_buckets.as_of_date
    window customer_history as (
        partition by customer_snapshots.customer_id
        order by customer_snapshots.as_of_date
        rows between unbounded preceding and current row
    )
),

final as (
    select
        as_of_date,
        customer_id,
        cast(orders_placed as integer) as orders_placed,
        cast(orders_cancelled as integer) as orders_cancelled,
        cast(frequency as integer) as frequency,
        first_order_at,
        last_order_at,
        cast(units_sold as bigint) as units_sold,
        cast(units_returned as bigint) as units_returned,
        cast(orders_with_return as integer) as orders_with_return,
        cast(gross_amount as {{ type_money() }}) as gross_amount,
        cast(discount_amount as {{ type_money() }}) as discount_amount,
        cast(net_sales as {{ type_money() }}) as net_sales,
        cast(refund_amount as {{ type_money() }}) as refund_amount,
        cast(net_sales - refund_amount as {{ type_money() }}) as monetary,
        cast(category_breadth as integer) as category_breadth
    from running_totals
)

select * from final
{%- endmacro %}


{% macro customer_session_metrics(snapshots) -%}
with

buckets as (
    {{ snapshot_buckets(snapshots) }}
),

sessions as (
    select * from {{ ref('stg_shop__sessions') }}
    where not is_anonymous
),

session_buckets as (
    select
        buckets.as_of_date,
        sessions.customer_id,
        count(*) as session_count,
        sum(sessions.page_views) as page_views,
        sum(sessions.product_views) as product_views,
        sum(sessions.cart_adds) as cart_adds,
        sum(case when sessions.cart_adds > 0 then 1 else 0 end) as sessions_with_cart_add,
        max(sessions.started_at) as last_session_at
    from sessions
    inner join buckets
        on {{ in_bucket('sessions.started_at', 'buckets') }}
    group by buckets.as_of_date, sessions.customer_id
),

customer_snapshots as (
    select
        first_buckets.customer_id,
        buckets.as_of_date
    from (
        select
            customer_id,
            min(as_of_date) as first_as_of_date
        from session_buckets
        group by customer_id
    ) as first_buckets
    inner join buckets
        on buckets.as_of_date >= first_buckets.first_as_of_date
),

final as (
    select
        customer_snapshots.as_of_date,
        customer_snapshots.customer_id,
        cast(sum(coalesce(session_buckets.session_count, 0)) over customer_history as integer)
            as session_count,
        cast(sum(coalesce(session_buckets.page_views, 0)) over customer_history as bigint)
            as page_views,
        cast(sum(coalesce(session_buckets.product_views, 0)) over customer_history as bigint)
            as product_views,
        cast(sum(coalesce(session_buckets.cart_adds, 0)) over customer_history as bigint)
            as cart_adds,
        cast(
            sum(coalesce(session_buckets.sessions_with_cart_add, 0)) over customer_history
            as integer
        ) as sessions_with_cart_add,
        max(session_buckets.last_session_at) over customer_history as last_session_at
    from customer_snapshots
    left join session_buckets
        on
            customer_snapshots.customer_id = session_buckets.customer_id
            and customer_snapshots.as_of_date = session_buckets.as_of_date
    window customer_history as (
        partition by customer_snapshots.customer_id
        order by customer_snapshots.as_of_date
        rows between unbounded preceding and current row
    )
)

select * from final
{%- endmacro %}


{% macro customer_feature_columns(orders, sessions) -%}
    {#- The model's numeric inputs, from the two metric relations joined on
        (as_of_date, customer_id). Documented in models/marts/customers/_customers__docs.md. -#}
        {{ customer_order_feature_columns(orders) }},
        {{ customer_session_feature_columns(orders, sessions) }}
{%- endmacro %}


{% macro segmentation_uses_sessions() -%}
    {#- True when var segmentation_features lists a web-session feature: only then do the
        segmentation's inputs (today's and the monthly ones) join the web sessions. -#}
    {{ return(var('segmentation_features') | select('in', session_feature_names()) | list
              | length > 0) }}
{%- endmacro %}


{% macro session_feature_names() -%}
    {#- The features customer_session_feature_columns computes (they need the web sessions). -#}
    {{ return(['session_count', 'session_conversion_rate']) }}
{%- endmacro %}


{% macro customer_order_feature_columns(orders) -%}
    {#- The features from orders, lines and returns (the metric relation `orders`). -#}
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
        {{ orders }}.category_breadth
{%- endmacro %}


{% macro customer_session_feature_columns(orders, sessions) -%}
    {#- The features that need the web sessions (`sessions`, joined to `orders`). -#}
        cast(coalesce({{ sessions }}.session_count, 0) as integer) as session_count,
        case
            when {{ sessions }}.session_count > 0
                then least(
                    {{ safe_divide(orders ~ '.frequency', sessions ~ '.session_count') }}, 1.0
                )
        end as session_conversion_rate
{%- endmacro %}


{% macro staged_order_lines(orders=none, order_columns=[]) -%}
    {#- Every kept order line with its order's customer, time and cancellation (plus
        `order_columns` of the orders) and its product's category ('unknown' without one).
        `orders` defaults to stg_shop__orders; a subset of it (a CTE name) keeps only the
        lines of those orders. -#}
    select
        order_items.order_id,
        order_items.line_number,
        orders.customer_id,
        order_items.product_id,
        coalesce(products.category, 'unknown') as category,
        order_items.quantity,
        order_items.unit_price,
        order_items.gross_amount,
        order_items.discount_amount,
        order_items.net_amount,
        {%- for column in order_columns %}
        orders.{{ column }},
        {%- endfor %}
        orders.ordered_at,
        orders.is_cancelled
    from {{ ref('stg_shop__order_items') }} as order_items
    inner join {{ orders or ref('stg_shop__orders') }} as orders
        on order_items.order_id = orders.order_id
    left join {{ ref('stg_shop__products') }} as products
        on order_items.product_id = products.product_id
{%- endmacro %}
