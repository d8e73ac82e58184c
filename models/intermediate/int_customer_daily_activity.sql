-- One row per customer and day with activity: the orders placed that day, what the kept
-- (not cancelled) ones sold, the categories bought for the first time, and the units and
-- value returned that day (a return is dated by its return date, not its order's). The web
-- sessions of the day join only when var segmentation_features uses a session feature.
-- Every customer metric, today's and each month end's, is a sum over these rows
-- (int_customer_metrics): the order history is aggregated here, once.
--
-- Incremental: a build whose raw folder holds files this model has not applied (its ledger,
-- raw.applied_raw_files) recomputes only the customers those files touch
-- (int_customers_changed): their rows are deleted (pre-hook) and computed again from their
-- whole history. Every other customer's days are as the last build left them. The first
-- build, --full-refresh and a change of the session columns compute every customer.
-- depends_on: {{ ref('int_customers_changed') }}
{{ config(
    materialized=materialized_incrementally(),
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ delete_changed_customers(ref('int_customers_changed')) }}",
    post_hook="{{ record_applied_files() }}",
) }}
{%- set uses_sessions = segmentation_uses_sessions() %}
{%- set changed_only = changed_customers_only() %}
{#- the web sessions are a parent only with a session feature -#}
{{- require_parents_selected([
    'stg_shop__customers', 'stg_shop__orders', 'stg_shop__order_items', 'stg_shop__returns',
    'stg_shop__products', 'int_customers_changed',
] + (['stg_shop__sessions'] if uses_sessions else [])) }}
with
{%- if changed_only %}

    changed_customers as (
        select * from {{ ref('int_customers_changed') }}
    ),
{%- endif %}

orders as (
    select * from {{ ref('stg_shop__orders') }}
    {%- if changed_only %}
        where customer_id in (select customer_id from changed_customers)
    {%- endif %}
),

order_items as (
    select * from {{ ref('stg_shop__order_items') }}
    {%- if changed_only %}
        where order_id in (select order_id from orders)
    {%- endif %}
),

order_lines as (
    -- the lines with their order's customer and day and their product's category
    select * from {{ ref('int_order_lines') }}
    {%- if changed_only %}
        where
            not is_cancelled
            and customer_id in (select customer_id from changed_customers)
    {%- else %}
        where not is_cancelled
    {%- endif %}
),

returns as (
    select * from {{ ref('stg_shop__returns') }}
),
{%- if uses_sessions %}

sessions as (
    select * from {{ ref('stg_shop__sessions') }}
    where not is_anonymous
    {%- if changed_only %}
        and customer_id in (select customer_id from changed_customers)
    {%- endif %}
),
{%- endif %}

order_item_totals as (
    -- each order's kept lines summed by the order alone: the lines meet their orders after
    -- this, one row per order. int_orders_summarised sums them the same way for the order
    -- facts; read from it, this model would wait for it on the path to the segments, and dbt
    -- ran it beside the kept returns under one memory limit, both spilling
    -- (docs/benchmarks.md, "Tried and reverted")
    select
        order_id,
        sum(quantity) as units_sold,
        sum(gross_amount) as gross_amount,
        sum(discount_amount) as discount_amount,
        sum(net_amount) as net_sales
    from order_items
    group by order_id
),

order_totals as (
    -- a purchase is an order that is not cancelled and has a kept line, so an order whose
    -- lines were all quarantined is none (fct_orders.is_purchase says the same)
    select
        orders.customer_id,
        orders.ordered_date,
        orders.ordered_at,
        orders.is_cancelled,
        not orders.is_cancelled and order_item_totals.order_id is not null as is_purchase,
        order_item_totals.units_sold,
        order_item_totals.gross_amount,
        order_item_totals.discount_amount,
        order_item_totals.net_sales
    from orders
    left join order_item_totals
        on orders.order_id = order_item_totals.order_id
),

order_days as (
    -- every order placed that day; what the purchases among them sold
    select
        customer_id,
        ordered_date as activity_date,
        count(*) as orders_placed,
        sum(case when is_cancelled then 1 else 0 end) as orders_cancelled,
        sum(case when is_purchase then 1 else 0 end) as orders_kept,
        min(case when is_purchase then ordered_at end) as first_order_at,
        max(case when is_purchase then ordered_at end) as last_order_at,
        sum(case when is_purchase then units_sold else 0 end) as units_sold,
        sum(case when is_purchase then gross_amount else 0 end) as gross_amount,
        sum(case when is_purchase then discount_amount else 0 end) as discount_amount,
        sum(case when is_purchase then net_sales else 0 end) as net_sales
    from order_totals
    group by customer_id, ordered_date
),

first_purchase_per_category as (
    select
        customer_id,
        category,
        min(ordered_date) as activity_date
    from order_lines
    group by customer_id, category
),

new_category_days as (
    select
        customer_id,
        activity_date,
        count(*) as new_categories
    from first_purchase_per_category
    group by customer_id, activity_date
),

customer_returns as (
    select
        orders.customer_id,
        returns.order_id,
        returns.quantity,
        returns.refund_amount,
        returns.returned_date
    from returns
    inner join orders
        on returns.order_id = orders.order_id
),

return_days as (
    select
        customer_id,
        returned_date as activity_date,
        sum(quantity) as units_returned,
        sum(refund_amount) as refund_amount
    from customer_returns
    group by customer_id, returned_date
),

first_return_per_order as (
    select
        customer_id,
        order_id,
        min(returned_date) as activity_date
    from customer_returns
    group by customer_id, order_id
),

first_return_days as (
    select
        customer_id,
        activity_date,
        count(*) as orders_first_returned
    from first_return_per_order
    group by customer_id, activity_date
),
{%- if uses_sessions %}

session_days as (
    select
        customer_id,
        started_date as activity_date,
        count(*) as session_count,
        sum(page_views) as page_views,
        sum(product_views) as product_views,
        sum(cart_adds) as cart_adds,
        sum(case when cart_adds > 0 then 1 else 0 end) as sessions_with_cart_add,
        max(started_at) as last_session_at
    from sessions
    group by customer_id, started_date
),
{%- endif %}

purchase_days as (
    -- first purchases of a category fall on days with an order
    select
        order_days.*,
        coalesce(new_category_days.new_categories, 0) as new_categories
    from order_days
    left join new_category_days
        on
            order_days.customer_id = new_category_days.customer_id
            and order_days.activity_date = new_category_days.activity_date
),

refund_days as (
    -- an order's first return falls on a day with a return
    select
        return_days.customer_id,
        return_days.activity_date,
        return_days.units_returned,
        return_days.refund_amount,
        coalesce(first_return_days.orders_first_returned, 0) as orders_first_returned
    from return_days
    left join first_return_days
        on
            return_days.customer_id = first_return_days.customer_id
            and return_days.activity_date = first_return_days.activity_date
),

final as (
    select
        coalesce(
            purchase_days.customer_id, refund_days.customer_id
            {%- if uses_sessions %}, session_days.customer_id{% endif %}
        ) as customer_id,
        coalesce(
            purchase_days.activity_date, refund_days.activity_date
            {%- if uses_sessions %}, session_days.activity_date{% endif %}
        ) as activity_date,
        cast(coalesce(purchase_days.orders_placed, 0) as integer) as orders_placed,
        cast(coalesce(purchase_days.orders_cancelled, 0) as integer) as orders_cancelled,
        cast(coalesce(purchase_days.orders_kept, 0) as integer) as orders_kept,
        purchase_days.first_order_at,
        purchase_days.last_order_at,
        cast(coalesce(purchase_days.units_sold, 0) as bigint) as units_sold,
        cast(coalesce(purchase_days.gross_amount, 0) as {{ type_money() }}) as gross_amount,
        cast(coalesce(purchase_days.discount_amount, 0) as {{ type_money() }})
            as discount_amount,
        cast(coalesce(purchase_days.net_sales, 0) as {{ type_money() }}) as net_sales,
        cast(coalesce(purchase_days.new_categories, 0) as integer) as new_categories,
        cast(coalesce(refund_days.units_returned, 0) as bigint) as units_returned,
        cast(coalesce(refund_days.refund_amount, 0) as {{ type_money() }}) as refund_amount,
        cast(coalesce(refund_days.orders_first_returned, 0) as integer)
            as orders_first_returned,
        -- the start of the build that wrote this row (tests check the latest build's rows)
        {{ run_started_timestamp() }} as _built_at
    {%- if uses_sessions %},
        cast(coalesce(session_days.session_count, 0) as integer) as session_count,
        cast(coalesce(session_days.page_views, 0) as bigint) as page_views,
        cast(coalesce(session_days.product_views, 0) as bigint) as product_views,
        cast(coalesce(session_days.cart_adds, 0) as bigint) as cart_adds,
        cast(coalesce(session_days.sessions_with_cart_add, 0) as integer)
            as sessions_with_cart_add,
        session_days.last_session_at
        {%- endif %}
    from purchase_days
    full outer join refund_days
        on
            purchase_days.customer_id = refund_days.customer_id
            and purchase_days.activity_date = refund_days.activity_date
    {%- if uses_sessions %}
    full outer join session_days
        on
            coalesce(purchase_days.customer_id, refund_days.customer_id)
            = session_days.customer_id
            and coalesce(purchase_days.activity_date, refund_days.activity_date)
            = session_days.activity_date
    {%- endif %}
)

select * from final
