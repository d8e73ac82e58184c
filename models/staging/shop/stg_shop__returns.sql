-- Kept returns: one row per return_id, each on a kept, not cancelled order line, with the
-- refund filled in where the file left it empty (the line's net unit price x quantity) and
-- capped at that value where the file gives more.
with

checked as (
    select * from {{ ref('base_shop__returns') }}
    where reject_reason is null
),

line_values as (
    select
        *,
        round(line_net_amount / sold_quantity * quantity, 2) as returned_line_value
    from checked
),

final as (
    select
        return_id,
        order_id,
        line_number,
        coalesce(reason, 'unknown') as return_reason,
        cast(quantity as integer) as quantity,
        -- a refund above what the returned units cost is capped at that value (repaired,
        -- flagged): return rates by value stay within [0, 1]
        cast(
            least(coalesce(refund_amount_reported, returned_line_value), returned_line_value)
            as {{ type_money() }}
        ) as refund_amount,
        refund_amount_reported is null as is_refund_estimated,
        coalesce(refund_amount_reported > returned_line_value, false) as is_refund_capped,
        returned_at,
        cast(returned_at as date) as returned_date
    from line_values
)

select * from final
