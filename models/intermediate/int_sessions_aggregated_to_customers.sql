-- One row per customer with at least one identified web session before the analysis date:
-- sessions, page and product views, cart adds. For dim_customers and customer_features,
-- which show the web activity whatever the segmentation uses.
with

sessions as (
    select * from {{ ref('stg_shop__sessions') }}
    where not is_anonymous
),

analysis_date as (
    select * from {{ ref('int_analysis_date') }}
),

final as (
    select
        sessions.customer_id,
        cast(count(*) as integer) as session_count,
        cast(sum(sessions.page_views) as bigint) as page_views,
        cast(sum(sessions.product_views) as bigint) as product_views,
        cast(sum(sessions.cart_adds) as bigint) as cart_adds,
        cast(sum(case when sessions.cart_adds > 0 then 1 else 0 end) as integer)
            as sessions_with_cart_add,
        max(sessions.started_at) as last_session_at
    from sessions
    inner join analysis_date
        on sessions.started_date < analysis_date.as_of_date
    group by sessions.customer_id
)

select * from final
