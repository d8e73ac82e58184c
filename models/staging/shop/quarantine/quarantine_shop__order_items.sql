-- Rejected raw order lines, one row each: the first rule the row breaks, every contract
-- column as the original text, and the row's place in the raw files.
-- The base view's final reject_reason is not read (its duplicate-key window would rank every
-- raw row): the row-level reasons are, and only the valid rows of duplicated keys are ranked.
with

base_order_items as (
    -- every raw row: the columns of the duplicate-key rule, the row-level reason, the raw text
    -- and the row's place in the files. Read once: DuckDB materializes a CTE that is read twice
    -- and holds a window (the CSV row number), which would copy every raw row.
    select
        order_id,
        line_number,
        product_id,
        quantity,
        unit_price,
        discount_amount,
        row_reject_reason,
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

valid_keys as (
    -- the keys of the rows that pass the row-level rules, from a scan that reads the keys only
    select
        order_id,
        line_number
    from {{ ref('base_shop__order_items') }}
    where row_reject_reason is null
),

duplicated_keys as (
    -- keys held by more than one valid row
    select
        order_id,
        line_number
    from valid_keys
    group by order_id, line_number
    having count(*) > 1
),

rejected_or_duplicated as (
    -- few rows in practice; the steps below read them, not every raw row
    select base_order_items.*
    from base_order_items
    left join duplicated_keys
        on
            base_order_items.order_id = duplicated_keys.order_id
            and base_order_items.line_number = duplicated_keys.line_number
    where
        base_order_items.row_reject_reason is not null
        or duplicated_keys.order_id is not null
),

reasons as (
    -- a row-level reason stays; the valid rows of a duplicated key are ranked with the
    -- table's duplicate-key rule: the first of each key gets no reason (it is kept), the
    -- others duplicate_<key>
    select
        rejected_or_duplicated.*,
        {{ duplicate_key_reason('order_items') }} as reject_reason
    from rejected_or_duplicated
),

rejected as (
    select * from reasons
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
