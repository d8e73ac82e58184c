-- One row per kept order line with its returns.
-- Incremental by customer (dbt_project.yml, docs/incremental.md): a build with new raw files
-- recomputes the rows of the customers they touch (int_customers_changed) and keeps the
-- others' rows; the first build and --full-refresh compute every customer.
-- depends_on: {{ ref('int_customers_changed') }}
{%- set changed_only = changed_customers_only(session_columns=false) %}
{{- require_parents_selected([
    'stg_shop__orders', 'stg_shop__order_items', 'stg_shop__products', 'stg_shop__returns',
    'int_customers_changed',
]) }}
with
{%- if changed_only %}

    changed_customers as (
        select * from {{ ref('int_customers_changed') }}
    ),
{%- endif %}

order_lines as (
    select * from {{ ref('int_order_lines') }}
    {%- if changed_only %}
        where customer_id in (select customer_id from changed_customers)
    {%- endif %}
),

returns as (
    select * from {{ ref('stg_shop__returns') }}
    {%- if changed_only %}
        where order_id in (select order_id from order_lines)
    {%- endif %}
),

returns_per_line as (
    select
        order_id,
        line_number,
        sum(quantity) as returned_quantity,
        sum(refund_amount) as refund_amount
    from returns
    group by order_id, line_number
),

final as (
    select
        {{ dbt.concat([
            'order_lines.order_id', "'-'", 'cast(order_lines.line_number as ' ~ dbt.type_string() ~ ')'
        ]) }} as order_item_id,
        order_lines.order_id,
        cast(order_lines.line_number as integer) as line_number,
        order_lines.customer_id,
        order_lines.product_id,
        order_lines.category,
        order_lines.is_cancelled,
        returns_per_line.order_id is not null as has_return,
        cast(order_lines.quantity as integer) as quantity,
        cast(coalesce(returns_per_line.returned_quantity, 0) as integer) as returned_quantity,
        order_lines.unit_price,
        order_lines.gross_amount,
        order_lines.discount_amount,
        order_lines.net_amount,
        cast(coalesce(returns_per_line.refund_amount, 0) as {{ type_money() }}) as refund_amount,
        cast(
            order_lines.net_amount - coalesce(returns_per_line.refund_amount, 0)
            as {{ type_money() }}
        ) as net_amount_after_returns,
        order_lines.ordered_at,
        order_lines.ordered_date
    from order_lines
    left join returns_per_line
        on
            order_lines.order_id = returns_per_line.order_id
            and order_lines.line_number = returns_per_line.line_number
)

select * from final
