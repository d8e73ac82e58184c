-- One row per kept order with its totals and returns.
-- Incremental by customer (dbt_project.yml, docs/incremental.md): a build with new raw files
-- recomputes the rows of the customers they touch (int_customers_changed) and keeps the
-- others' rows; the first build and --full-refresh compute every customer.
-- depends_on: {{ ref('int_customers_changed') }}
{%- set changed_only = changed_customers_only(session_columns=false) %}
{{- require_parents_selected([
    'int_orders_summarised', 'stg_shop__returns', 'int_customers_changed',
]) }}
with
{%- if changed_only %}

    changed_customers as (
        select * from {{ ref('int_customers_changed') }}
    ),
{%- endif %}

orders as (
    select * from {{ ref('int_orders_summarised') }}
    {%- if changed_only %}
        where
            {{ written_by_this_build('int_orders_summarised') }}
            and customer_id in (select customer_id from changed_customers)
    {%- endif %}
),

returns as (
    select * from {{ ref('stg_shop__returns') }}
    {%- if changed_only %}
        where order_id in (select order_id from orders)
    {%- endif %}
),

return_totals as (
    select
        order_id,
        sum(quantity) as returned_units,
        sum(refund_amount) as refund_amount
    from returns
    group by order_id
),

final as (
    select
        orders.order_id,
        orders.customer_id,
        orders.order_status,
        orders.sales_channel,
        orders.is_cancelled,
        orders.is_purchase,
        coalesce(return_totals.returned_units, 0) > 0 as has_return,
        cast(orders.line_count as integer) as line_count,
        cast(orders.units as bigint) as units,
        cast(coalesce(return_totals.returned_units, 0) as bigint) as returned_units,
        orders.gross_amount,
        orders.discount_amount,
        orders.net_amount,
        cast(coalesce(return_totals.refund_amount, 0) as {{ type_money() }}) as refund_amount,
        cast(
            orders.net_amount - coalesce(return_totals.refund_amount, 0) as {{ type_money() }}
        ) as net_amount_after_returns,
        orders.ordered_at,
        orders.ordered_date
    from orders
    left join return_totals
        on orders.order_id = return_totals.order_id
)

select * from final
