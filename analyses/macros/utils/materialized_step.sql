-- materialized_step (macros/utils/columns.sql)
with

orders as {{ materialized_step() }} (
    select order_id from {{ ref('stg_shop__orders') }}
)

select count(*) as order_count from orders
