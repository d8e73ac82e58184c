-- union_held_rows, where_key_changed, keys_ranked_again, union_kept_versions and
-- not_materialized (macros/raw/held_rows.sql) as an incremental base model renders them on
-- an incremental build: the held rows checked again beside the new ones (all of them, or the
-- quarantined ones), and every version of the keys whose answer changed.
with

new_rows as (
    select
        order_id,
        customer_id,
        cast(null as varchar) as row_reject_reason,
        true as is_new_row
    from {{ ref('stg_shop__orders') }}
),

parsed as {{ not_materialized(true) }} (
    select * from new_rows
    {{- union_held_rows(true) }}
),

quarantined_parsed as (
    select * from new_rows
    {{- union_held_rows(true, quarantined_only=true) }}
),

flagged as {{ not_materialized(true) }} (
    select
        *,
        held_reject_reason as row_reject_reason_now
    from parsed
),

changed as (
    select * from flagged
    {{- where_key_changed('flagged', 'order_id', true) }}
),

with_kept_versions as (
    select * from flagged
    {{- where_key_changed('flagged', 'order_id', true) }}
    {{- union_kept_versions('flagged', 'order_id', true) }}
),

ranked_again as (
    {{ keys_ranked_again('flagged', 'order_id') }}
)

select * from changed
where order_id in (select ranked_again.order_id from ranked_again)
union all by name
select * from quarantined_parsed
union all by name
select * from with_kept_versions
