-- Every customer with a kept order, scored in SQL against the current model version: the
-- stored transform applied to customer_features, then the nearest centroid. New customers
-- get a segment on every build without a refit.
with

standardised as (
    {{ standardise_features_wide(ref('int_segmentation_features'), ['customer_id']) }}
),

scored as (
    {{ nearest_segment_wide('standardised', ref('int_segment_centroids_current'),
                            ['customer_id']) }}
),

final as (
    select
        customer_id,
        cast(segment_id as integer) as segment_id,
        segment_name,
        {{ stable_double('distance') }} as distance,
        {{ stable_double('margin') }} as margin,
        cast(model_version as integer) as model_version
    from scored
)

select * from final
