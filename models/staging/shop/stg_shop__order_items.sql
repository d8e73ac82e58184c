-- Kept order lines: one row per (order_id, line_number), each on a kept order.
with

checked as (
    select * from {{ ref('base_shop__order_items') }}
    where reject_reason is null and superseded_by_file is null
),

final as (
    select
        order_id,
        line_number,
        product_id,
        cast(quantity as integer) as quantity,
        unit_price,
        cast(discount_amount as {{ type_money() }}) as discount_amount,
        cast(quantity * unit_price as {{ type_money() }}) as gross_amount,
        cast(quantity * unit_price - discount_amount as {{ type_money() }}) as net_amount,
        -- the raw file this version of the row came from
        _source_file,
        -- the build that wrote the base row (the key tests read the latest build's rows)
        _built_at
    from checked
)

select * from final
