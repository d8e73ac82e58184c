-- Every customer's segmentation features, long (one row per customer and configured
-- feature), with the current model's transform applied (z): winsorised, log1p where
-- use_log, standardised, missing -> 0. For segment_feature_importance and
-- segment_feature_deviations.
{%- set features = var('segmentation_features') %}
with

customer_features as (
    select * from {{ ref('int_customer_features_current') }}
),

centroids as (
    select * from {{ ref('int_segment_centroids_current') }}
),

feature_params as (
    select distinct
        feature,
        use_log,
        feature_mean,
        feature_std,
        clip_lower,
        clip_upper
    from centroids
),

features_long as (
    -- one row per customer and configured feature
    {%- for feature in features %}
        select
            customer_id,
            '{{ feature }}' as feature,
            cast({{ feature }} as double) as feature_value
        from customer_features
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    select
        features_long.customer_id,
        features_long.feature,
        features_long.feature_value,
        {{ standardise_feature(
            'features_long.feature_value', 'feature_params.use_log',
            'feature_params.feature_mean', 'feature_params.feature_std',
            'feature_params.clip_lower', 'feature_params.clip_upper'
        ) }} as z
    from features_long
    inner join feature_params
        on features_long.feature = feature_params.feature
)

select * from final
