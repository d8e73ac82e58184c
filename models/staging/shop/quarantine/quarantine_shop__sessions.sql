-- Rejected raw web sessions, one row each: the first rule the row breaks, every contract
-- column as the original text, and the row's place in the raw files.
-- The base view's final reject_reason is not read (its duplicate-key window would rank every
-- raw row): the row-level reasons are, and only the valid rows of duplicated keys are ranked.
with

base_sessions as (
    -- every raw row: the columns of the duplicate-key rule, the row-level reason, the raw text
    -- and the row's place in the files. Read once: DuckDB materializes a CTE that is read twice
    -- and holds a window (the CSV row number), which would copy every raw row.
    select
        session_id,
        customer_id,
        started_at,
        page_views,
        product_views,
        cart_adds,
        row_reject_reason,
        raw_session_id,
        raw_customer_id,
        raw_started_at,
        raw_page_views,
        raw_product_views,
        raw_cart_adds,
        raw_device,
        _source_file,
        _source_row
    from {{ ref('base_shop__sessions') }}
),

valid_keys as (
    -- the keys of the rows that pass the row-level rules, from a scan that reads the keys only
    select session_id
    from {{ ref('base_shop__sessions') }}
    where row_reject_reason is null
),

duplicated_keys as (
    -- keys held by more than one valid row
    select session_id
    from valid_keys
    group by session_id
    having count(*) > 1
),

rejected_or_duplicated as (
    -- few rows in practice; the steps below read them, not every raw row
    select base_sessions.*
    from base_sessions
    left join duplicated_keys
        on base_sessions.session_id = duplicated_keys.session_id
    where
        base_sessions.row_reject_reason is not null
        or duplicated_keys.session_id is not null
),

reasons as (
    -- a row-level reason stays; the valid rows of a duplicated key are ranked with the
    -- table's duplicate-key rule: the first of each key gets no reason (it is kept), the
    -- others duplicate_<key>
    select
        rejected_or_duplicated.*,
        {{ duplicate_key_reason('sessions') }} as reject_reason
    from rejected_or_duplicated
),

rejected as (
    select * from reasons
    where reject_reason is not null
),

final as (
    select
        'sessions' as source_table,
        reject_reason,
        raw_session_id,
        raw_customer_id,
        raw_started_at,
        raw_page_views,
        raw_product_views,
        raw_cart_adds,
        raw_device,
        _source_file as source_file,
        _source_row as source_row
    from rejected
)

select * from final
