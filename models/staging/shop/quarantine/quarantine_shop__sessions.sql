-- Rejected raw web sessions, one row each: the first rule the row breaks, every contract
-- column as the original text, and the row's place in the raw files. The base model is a
-- table (dbt_project.yml), so its final reason, duplicate keys included, is read as is.
with

base_sessions as (
    select
        reject_reason,
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

rejected as (
    select * from base_sessions
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
