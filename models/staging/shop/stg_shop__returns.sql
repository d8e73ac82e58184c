-- Kept returns: one row per return_id, each on a kept, not cancelled order line, with the
-- refund filled in where the file left it empty (the line's net unit price x quantity).
with

checked as (
    select * from {{ ref('base_shop__returns') }}
    where reject_reason is null
),

final as (
    select
        return_id,
        order_id,
        line_number,
        coalesce(reason, 'unknown') as return_reason,
        cast(quantity as integer) as quantity,
        cast(
            coalesce(
                refund_amount_reported,
                round(line_net_amount / sold_quantity * quantity, 2)
            ) as {{ type_money() }}
        ) as refund_amount,
        refund_amount_reported is null as is_refund_estimated,
        returned_at,
        cast(returned_at as date) as returned_date
    from checked
)

select * from final
