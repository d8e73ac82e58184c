-- Rejected raw orders, one row each: the first rule the row breaks, every contract
-- column as the original text, and the row's place in the raw files.
-- The base view's final reject_reason is not read (its duplicate-key window would rank every
-- raw row): the row-level reasons are, and only the valid rows of duplicated keys are ranked.
with

base_orders as (
    -- every raw row: the columns of the duplicate-key rule, the row-level reason, the raw text
    -- and the row's place in the files. Read once: DuckDB materializes a CTE that is read twice
    -- and holds a window (the CSV row number), which would copy every raw row.
    select
        order_id,
        customer_id,
        ordered_at,
        status,
        sales_channel,
        row_reject_reason,
        raw_order_id,
        raw_customer_id,
        raw_ordered_at,
        raw_status,
        raw_sales_channel,
        _source_file,
        _source_row
    from {{ ref('base_shop__orders') }}
),

valid_keys as (
    -- the keys of the rows that pass the row-level rules, from a scan that reads the keys only
    select order_id
    from {{ ref('base_shop__orders') }}
    where row_reject_reason is null
),

duplicated_keys as (
    -- keys held by more than one valid row
    select order_id
    from valid_keys
    group by order_id
    having count(*) > 1
),

rejected_or_duplicated as (
    -- few rows in practice; the steps below read them, not every raw row
    select base_orders.*
    from base_orders
    left join duplicated_keys
        on base_orders.order_id = duplicated_keys.order_id
    where
        base_orders.row_reject_reason is not null
        or duplicated_keys.order_id is not null
),

reasons as (
    -- a row-level reason stays; the valid rows of a duplicated key are ranked with the
    -- table's duplicate-key rule: the first of each key gets no reason (it is kept), the
    -- others duplicate_<key>
    select
        rejected_or_duplicated.*,
        {{ duplicate_key_reason('orders') }} as reject_reason
    from rejected_or_duplicated
),

rejected as (
    select * from reasons
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
