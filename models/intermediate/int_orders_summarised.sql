-- One row per kept order (cancelled ones too, flagged): its line totals (units, gross,
-- discount, net); orders without any kept line have zero totals. An order is a purchase when
-- it is not cancelled and has at least one kept line: an order whose lines were all
-- quarantined (or that came without lines) is not one, so it counts in no frequency. No
-- returns (fct_orders adds them). Read by fct_orders, segment_trends and the daily activity.
-- Incremental by customer (dbt_project.yml, docs/incremental.md): a build with new raw files
-- recomputes the rows of the customers they touch (int_customers_changed) and keeps the
-- others' rows; the first build and --full-refresh compute every customer.
-- depends_on: {{ ref('int_customers_changed') }}
{%- set changed_only = changed_customers_only(session_columns=false) %}
{{- require_parents_selected([
    'stg_shop__orders', 'stg_shop__order_items', 'int_customers_changed',
]) }}
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

line_totals as (
    select
        order_id,
        count(*) as line_count,
        sum(quantity) as units,
        sum(gross_amount) as gross_amount,
        sum(discount_amount) as discount_amount,
        sum(net_amount) as net_amount
    from order_items
    group by order_id
),

final as (
    select
        orders.order_id,
        orders.customer_id,
        orders.order_status,
        orders.sales_channel,
        orders.is_cancelled,
        not orders.is_cancelled and line_totals.line_count is not null as is_purchase,
        cast(coalesce(line_totals.line_count, 0) as integer) as line_count,
        cast(coalesce(line_totals.units, 0) as bigint) as units,
        cast(coalesce(line_totals.gross_amount, 0) as {{ type_money() }}) as gross_amount,
        cast(coalesce(line_totals.discount_amount, 0) as {{ type_money() }})
            as discount_amount,
        cast(coalesce(line_totals.net_amount, 0) as {{ type_money() }}) as net_amount,
        orders.ordered_at,
        orders.ordered_date,
        -- the start of the build that wrote this row (the key test reads the latest build's)
        {{ run_started_timestamp() }} as _built_at
    from orders
    left join line_totals
        on orders.order_id = line_totals.order_id
)

select * from final
