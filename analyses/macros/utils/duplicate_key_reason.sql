-- duplicate_key_reason (macros/utils/duplicate_keys.sql): generated from duplicate_key_rules,
-- for a one-column and a two-column key.
with

orders as (
    select
        order_id,
        {{ duplicate_key_reason('orders') }} as reject_reason
    from {{ ref('base_shop__orders') }}
),

order_items as (
    select
        order_id,
        {{ duplicate_key_reason('order_items') }} as reject_reason
    from {{ ref('base_shop__order_items') }}
)

select * from orders
union all
select * from order_items
