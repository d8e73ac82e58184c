-- One row per kept return with the returned line's customer, product and reason group.
-- Incremental by customer (dbt_project.yml, docs/incremental.md): a build with new raw files
-- recomputes the rows of the customers they touch (int_customers_changed) and keeps the
-- others' rows; the first build and --full-refresh compute every customer.
-- depends_on: {{ ref('int_customers_changed') }}
{%- set changed_only = changed_customers_only(session_columns=false) %}
{{- require_parents_selected(['int_returns_joined_to_order_items', 'int_customers_changed']) }}
with
{%- if changed_only %}

    changed_customers as (
        select * from {{ ref('int_customers_changed') }}
    ),
{%- endif %}

returns as (
    select * from {{ ref('int_returns_joined_to_order_items') }}
    {%- if changed_only %}
        where
            {{ written_by_this_build('int_returns_joined_to_order_items') }}
            and customer_id in (select customer_id from changed_customers)
    {%- endif %}
),

reason_groups as (
    select * from {{ ref('return_reason_groups') }}
),

final as (
    select
        returns.return_id,
        returns.order_id,
        cast(returns.line_number as integer) as line_number,
        returns.customer_id,
        returns.product_id,
        returns.category,
        returns.return_reason,
        coalesce(reason_groups.reason_group, 'other') as return_reason_group,
        cast(returns.quantity as integer) as quantity,
        returns.refund_amount,
        returns.is_refund_estimated,
        {{ days_between('returns.ordered_at', 'returns.returned_at') }} as days_to_return,
        returns.returned_at,
        returns.returned_date
    from returns
    left join reason_groups
        on returns.return_reason = reason_groups.return_reason
)

select * from final
