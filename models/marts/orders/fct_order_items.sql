-- One row per kept order line with its returns.
with

order_lines as (
    select * from {{ ref('int_order_lines') }}
),

final as (
    select
        {{ dbt.concat(['order_id', "'-'", 'cast(line_number as varchar)']) }}
            as order_item_id,
        order_id,
        cast(line_number as integer) as line_number,
        customer_id,
        product_id,
        category,
        is_cancelled,
        has_return,
        cast(quantity as integer) as quantity,
        cast(returned_quantity as integer) as returned_quantity,
        unit_price,
        gross_amount,
        discount_amount,
        net_amount,
        refund_amount,
        net_amount_after_returns,
        ordered_at,
        ordered_date
    from order_lines
)

select * from final
