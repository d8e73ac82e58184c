-- Rejected raw order lines, one row each: the first rule the row breaks, every contract
-- column as the original text, and the row's place in the raw files. The base model is a
-- table (dbt_project.yml), so its final reason, duplicate keys included, is read as is.
with

base_order_items as (
    select
        reject_reason,
        raw_order_id,
        raw_line_number,
        raw_product_id,
        raw_quantity,
        raw_unit_price,
        raw_discount_amount,
        _source_file,
        _source_row
    from {{ ref('base_shop__order_items') }}
),

rejected as (
    select * from base_order_items
    where reject_reason is not null
),

final as (
    select
        'order_items' as source_table,
        reject_reason,
        raw_order_id,
        raw_line_number,
        raw_product_id,
        raw_quantity,
        raw_unit_price,
        raw_discount_amount,
        _source_file as source_file,
        _source_row as source_row
    from rejected
)

select * from final
