-- superseded_by_file (macros/utils/duplicate_keys.sql): for a batch folder (the window over
-- the key) and for a single file (a typed null), with the duplicate-key rule it follows.
with

ranked as (
    select
        *,
        {{ duplicate_key_reason('order_items', batched=true) }} as reject_reason
    from {{ ref('base_shop__order_items') }}
),

batched as (
    select
        order_id,
        {{ superseded_by_file('order_items', batched=true) }} as superseded_by_file
    from ranked
),

single_file as (
    select
        order_id,
        {{ superseded_by_file('order_items', batched=false) }} as superseded_by_file
    from ranked
)

select * from batched
union all
select * from single_file
