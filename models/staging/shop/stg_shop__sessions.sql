-- Kept web sessions: one row per session_id; customer_id null means anonymous.
with

checked as (
    select * from {{ ref('base_shop__sessions') }}
    where reject_reason is null and superseded_by_file is null
),

final as (
    select
        session_id,
        customer_id,
        coalesce(device, 'unknown') as device,
        cast(page_views as integer) as page_views,
        cast(product_views as integer) as product_views,
        cast(cart_adds as integer) as cart_adds,
        customer_id is null as is_anonymous,
        started_at,
        cast(started_at as date) as started_date,
        -- the raw file this version of the row came from
        _source_file,
        -- the build that wrote the base row (the key tests read the latest build's rows)
        _built_at
    from checked
)

select * from final
