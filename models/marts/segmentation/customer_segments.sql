-- Every customer with a kept order, scored in SQL against the latest model version: the
-- stored transform (log1p, standardise) applied to customer_features, then the nearest
-- centroid. New customers get a segment on every build without a refit.
with

latest_centroids as (
    select * from {{ ref('segment_centroids') }}
    where model_version = (select max(model_version) from {{ ref('segment_centroids') }})
),

feature_params as (
    select distinct
        feature,
        use_log,
        feature_mean,
        feature_std
    from latest_centroids
),

features_long as (
    {{ unpivot_features(ref('customer_features'), ['customer_id']) }}
),

standardised as (
    select
        features_long.customer_id,
        features_long.feature,
        {{ standardise_feature(
            'features_long.feature_value', 'feature_params.use_log',
            'feature_params.feature_mean', 'feature_params.feature_std'
        ) }} as z
    from features_long
    inner join feature_params
        on features_long.feature = feature_params.feature
),

scored as (
    {{ nearest_segment('standardised', 'latest_centroids', ['customer_id']) }}
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
