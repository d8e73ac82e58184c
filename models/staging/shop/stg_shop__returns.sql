-- Kept returns: one row per return_id, each on a kept, not cancelled order line, with the
-- refund filled in where the file left it empty (the line's net unit price x quantity),
-- capped at that value where the file gives more, and capped so that a line's returns never
-- refund more than the line's net value.
-- Incremental: a build recomputes the returns of the orders whose base rows were written after
-- its last build (every row of a line's returns comes from its order's base rows, which the
-- base model rewrites whenever a return, the order or its lines change); the pre-hook deletes
-- those orders' rows first. Equal to a build of every order (docs/incremental.md; configured
-- in dbt_project.yml).
{%- set rewritten_orders = orders_rewritten_since_last_build(ref('base_shop__returns')) %}
with

base_returns as (
    select * from {{ ref('base_shop__returns') }}
    {%- if rewritten_orders is not none %}
    -- on an incremental build, the orders whose base rows were written after the last build
        where order_id in ({{ rewritten_orders }})
    {%- endif %}
),

checked as (
    select * from base_returns
    where reject_reason is null and superseded_by_file is null
),

line_values as (
    select
        *,
        -- what the returned units cost, to the cent (half up)
        {{ money_share('line_net_amount', 'quantity', 'sold_quantity') }} as returned_line_value
    from checked
),

row_refunds as (
    -- a refund above what the returned units cost is capped at that value
    select
        *,
        least(coalesce(refund_amount_reported, returned_line_value), returned_line_value)
            as row_refund
    from line_values
),

line_refunds as (
    -- and the returns of one line never refund more than the line's net value in total
    -- (rounding each return's share could): a return gets the part of the line's value
    -- between the running totals before and after it, in return order
    select
        *,
        sum(row_refund) over (
            partition by order_id, line_number
            order by returned_at, return_id
            rows between unbounded preceding and current row
        ) as refunded_through_this_return
    from row_refunds
),

capped_refunds as (
    select
        *,
        least(refunded_through_this_return, line_net_amount)
        - least(refunded_through_this_return - row_refund, line_net_amount) as capped_refund
    from line_refunds
),

final as (
    select
        return_id,
        order_id,
        line_number,
        coalesce(reason, 'unknown') as return_reason,
        cast(quantity as integer) as quantity,
        -- capped refunds are repaired and flagged: return rates by value stay within [0, 1]
        cast(capped_refund as {{ type_money() }}) as refund_amount,
        refund_amount_reported is null as is_refund_estimated,
        capped_refund < coalesce(refund_amount_reported, returned_line_value)
            as is_refund_capped,
        returned_at,
        cast(returned_at as date) as returned_date,
        -- the raw file this version of the row came from
        _source_file,
        -- the build that wrote the base row
        _built_at
    from capped_refunds
)

select * from final
