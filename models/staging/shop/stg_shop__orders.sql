-- Kept orders: one row per order_id, each belonging to a kept customer.
with

checked as (
    select * from {{ ref('base_shop__orders') }}
    where reject_reason is null and superseded_by_file is null
),

final as (
    select
        order_id,
        customer_id,
        status as order_status,
        sales_channel,
        status = 'cancelled' as is_cancelled,
        ordered_at,
        cast(ordered_at as date) as ordered_date,
        -- the raw file this version of the row came from
        _source_file,
        -- the build that wrote the base row (the key tests read the latest build's rows)
        _built_at
    from checked
)

select * from final
