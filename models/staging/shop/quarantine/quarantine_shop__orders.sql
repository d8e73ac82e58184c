-- Rejected raw orders, one row each: the first rule the row breaks, every contract
-- column as the original text, and the row's place in the raw files. The base model is a
-- table (dbt_project.yml), so its final reason, duplicate keys included, is read as is.
with

base_orders as (
    select
        reject_reason,
        raw_order_id,
        raw_customer_id,
        raw_ordered_at,
        raw_status,
        raw_sales_channel,
        _source_file,
        _source_row
    from {{ ref('base_shop__orders') }}
),

rejected as (
    select * from base_orders
    where reject_reason is not null
),

final as (
    select
        'orders' as source_table,
        reject_reason,
        raw_order_id,
        raw_customer_id,
        raw_ordered_at,
        raw_status,
        raw_sales_channel,
        _source_file as source_file,
        _source_row as source_row
    from rejected
)

select * from final
