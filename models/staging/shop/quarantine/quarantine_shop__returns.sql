-- Rejected raw returns, one row each: the first rule the row breaks, every contract
-- column as the original text, and the row's place in the raw files.
-- The returns' last rule (several returns of one line above the sold quantity) runs after
-- the duplicate-key rule, so this model reads the base model's final reason.
with

base_returns as (
    select
        reject_reason,
        raw_return_id,
        raw_order_id,
        raw_line_number,
        raw_quantity,
        raw_returned_at,
        raw_reason,
        raw_refund_amount,
        _source_file,
        _source_row
    from {{ ref('base_shop__returns') }}
),

rejected as (
    select * from base_returns
    where reject_reason is not null
),

final as (
    select
        'returns' as source_table,
        reject_reason,
        raw_return_id,
        raw_order_id,
        raw_line_number,
        raw_quantity,
        raw_returned_at,
        raw_reason,
        raw_refund_amount,
        _source_file as source_file,
        _source_row as source_row
    from rejected
)

select * from final
