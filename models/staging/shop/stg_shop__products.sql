-- Kept products: one row per product_id; a missing category becomes 'unknown'.
with

checked as (
    select * from {{ ref('base_shop__products') }}
    where reject_reason is null and superseded_by_file is null
),

final as (
    select
        product_id,
        product_name,
        coalesce(category, 'unknown') as category,
        list_price,
        -- the raw file this version of the row came from
        _source_file
    from checked
)

select * from final
