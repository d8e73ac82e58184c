-- Every customer with a kept order, scored in SQL against the current model version: the
-- nearest centroid to the standardised features (int_customer_features_standardised).
-- New customers get a segment on every build without a refit.
with

scored as (
    {{ nearest_segment(
        ref('int_customer_features_standardised'),
        ref('int_segment_centroids_current'),
        ['customer_id']
    ) }}
),

final as (
    select
        customer_id,
        cast(segment_id as integer) as segment_id,
        segment_name,
        distance,
        margin,
        cast(model_version as integer) as model_version
    from scored
)

select * from final
