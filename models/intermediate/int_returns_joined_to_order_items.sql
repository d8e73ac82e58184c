-- One row per kept return with the customer, order time and category of the returned line.
-- Every kept return is on a kept line of a kept order (base_shop__returns checks it).
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

returns as (
    select * from {{ ref('stg_shop__returns') }}
),

order_lines as (
    select * from {{ ref('int_order_lines') }}
    {%- if changed_only %}
        where customer_id in (select customer_id from changed_customers)
    {%- endif %}
),

final as (
    select
        returns.return_id,
        returns.order_id,
        returns.line_number,
        order_lines.customer_id,
        order_lines.product_id,
        order_lines.category,
        returns.return_reason,
        returns.quantity,
        returns.refund_amount,
        returns.is_refund_estimated,
        order_lines.ordered_at,
        returns.returned_at,
        returns.returned_date,
        -- the start of the build that wrote this row (the key test reads the latest build's)
        {{ run_started_timestamp() }} as _built_at
    from returns
    inner join order_lines
        on
            returns.order_id = order_lines.order_id
            and returns.line_number = order_lines.line_number
)

select * from final
