-- One row per customer and value of an attribute of their orders and returns before the
-- analysis date: each sales channel of their purchases, each category they bought (with the
-- net amount of those lines), each category they returned and each return reason (with the
-- units returned). segment_attribute_lift counts each value's customers per segment and
-- segment_profiles ranks each segment's categories and return reasons from these rows,
-- instead of reading every order line and return on each build.
--
-- It reads the order and return facts, which hold the kept orders, lines and returns with
-- their customer already: the line view (int_order_lines) would join every line to its
-- order again.
--
-- Incremental, like customer_returns: a customer's rows change only when their days do
-- (int_customers_changed) or when the analysis date moves over one of their days
-- (customers_summed_again), so a build deletes those customers' rows (pre-hook) and computes
-- them again; every other row stays. The first build, --full-refresh and a change of the
-- code upstream or of the vars it depends on compute every customer.
-- depends_on: {{ ref('int_customers_changed') }}
-- depends_on: {{ ref('int_customer_daily_activity') }}
-- depends_on: {{ ref('int_snapshot_dates') }}
{{ config(
    materialized=materialized_incrementally(),
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
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
    'fct_orders', 'fct_order_items', 'fct_returns',
]) }}
with
{%- if summed_again %}

    summed_again as (
        {{ summed_again | indent(8) }}
    ),
{%- endif %}

analysis_date as (
    select * from {{ ref('int_analysis_date') }}
),

all_orders as (
    select * from {{ ref('fct_orders') }}
    {%- if summed_again %}
        where customer_id in (select customer_id from summed_again)
    {%- endif %}
),

all_order_items as (
    select * from {{ ref('fct_order_items') }}
    {%- if summed_again %}
        where customer_id in (select customer_id from summed_again)
    {%- endif %}
),

all_returns as (
    select * from {{ ref('fct_returns') }}
    {%- if summed_again %}
        where customer_id in (select customer_id from summed_again)
    {%- endif %}
),

purchases as (
    -- the orders the customer metrics count: purchases before the analysis date
    select all_orders.*
    from all_orders
    inner join analysis_date
        on all_orders.ordered_date < analysis_date.as_of_date
    where all_orders.is_purchase
),

order_items as (
    -- the lines of the orders that were not cancelled, before the analysis date
    select all_order_items.*
    from all_order_items
    inner join analysis_date
        on all_order_items.ordered_date < analysis_date.as_of_date
    where not all_order_items.is_cancelled
),

returns as (
    select all_returns.*
    from all_returns
    inner join analysis_date
        on all_returns.returned_date < analysis_date.as_of_date
),

attribute_values as (
    select
        customer_id,
        'sales_channel' as attribute_name,
        coalesce(sales_channel, 'unknown') as attribute_value,
        cast(null as {{ type_money() }}) as net_amount,
        cast(null as bigint) as units_returned
    from purchases
    group by customer_id, coalesce(sales_channel, 'unknown')
    union all
    select
        customer_id,
        'category_bought' as attribute_name,
        coalesce(category, 'unknown') as attribute_value,
        cast(sum(net_amount) as {{ type_money() }}) as net_amount,
        cast(null as bigint) as units_returned
    from order_items
    group by customer_id, coalesce(category, 'unknown')
    union all
    select
        customer_id,
        'category_returned' as attribute_name,
        coalesce(category, 'unknown') as attribute_value,
        cast(null as {{ type_money() }}) as net_amount,
        cast(sum(quantity) as bigint) as units_returned
    from returns
    group by customer_id, coalesce(category, 'unknown')
    union all
    select
        customer_id,
        'return_reason' as attribute_name,
        coalesce(return_reason, 'unknown') as attribute_value,
        cast(null as {{ type_money() }}) as net_amount,
        cast(sum(quantity) as bigint) as units_returned
    from returns
    group by customer_id, coalesce(return_reason, 'unknown')
),

final as (
    select
        customer_id,
        attribute_name,
        attribute_value,
        net_amount,
        units_returned,
        -- the start of the build that wrote this row
        {{ run_started_timestamp() }} as _built_at
    from attribute_values
)

select * from final
