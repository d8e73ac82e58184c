-- superseded_by_file (macros/utils/duplicate_keys.sql): for a batch folder (the window it
-- shares with the duplicate-key rule) and for a single file (a typed null).
with

batched as (
    select
        order_id,
        {{ duplicate_key_reason('order_items', batched=true) }} as reject_reason,
        {{ superseded_by_file('order_items', batched=true) }} as superseded_by_file
    from {{ ref('base_shop__order_items') }}
),

single_file as (
    select
        order_id,
        {{ duplicate_key_reason('order_items', batched=false) }} as reject_reason,
        {{ superseded_by_file('order_items', batched=false) }} as superseded_by_file
    from {{ ref('base_shop__order_items') }}
)

select * from batched
union all
select * from single_file
