-- One row per segment of the current model version.
with

latest_centroids as (
    select * from {{ ref('int_segment_centroids_current') }}
),

segments as (
    select distinct
        segment_id,
        segment_name,
        segment_description,
        model_version,
        fitted_at
    from latest_centroids
),

segment_sizes as (
    select
        segment_id,
        count(*) as customers
    from {{ ref('customer_segments') }}
    group by segment_id
),

final as (
    select
        cast(segments.segment_id as integer) as segment_id,
        segments.segment_name,
        segments.segment_description as description,
        cast(coalesce(segment_sizes.customers, 0) as bigint) as customers,
        cast(segments.model_version as integer) as model_version,
        segments.fitted_at
    from segments
    left join segment_sizes
        on segments.segment_id = segment_sizes.segment_id
)

select * from final
