-- Every customer with a kept order, scored in SQL against the current model version: the
-- stored transform applied to today's features, then the nearest centroid (squared
-- Euclidean distance over the configured features; ties to the lower segment id) and the
-- margin to the second nearest. New customers get a segment on every build without a refit.
with

customer_features as (
    select * from {{ ref('int_customer_features_current') }}
),

scoring_params as (
    select * from {{ ref('int_segment_scoring_params') }}
),

segments as (
    select distinct
        segment_id,
        segment_name,
        model_version
    from {{ ref('int_segment_centroids_current') }}
),

standardised as (
    select
        customer_features.customer_id,
        {{ standardised_feature_columns('customer_features', 'scoring_params') }}
    from customer_features
    cross join scoring_params
),

distances as (
    select
        standardised.customer_id,
        {{ slot_distance_columns('standardised', 'scoring_params') }}
    from standardised
    cross join scoring_params
),

nearest as (
    select
        distances.*,
        {{ smallest_slot_distance('distances') }} as distance
    from distances
),

chosen as (
    select
        nearest.customer_id,
        nearest.distance,
        {{ first_slot_at('nearest', 'nearest.distance') }} as slot,
        -- the smallest distance among the other slots (null with a single segment)
        {{ smallest_slot_distance(
            'nearest', except_slot=first_slot_at('nearest', 'nearest.distance')
        ) }}
        - nearest.distance as margin
    from nearest
),

final as (
    select
        chosen.customer_id,
        cast(segments.segment_id as integer) as segment_id,
        segments.segment_name,
        {{ stable_double('chosen.distance') }} as distance,
        {{ stable_double('chosen.margin') }} as margin,
        cast(segments.model_version as integer) as model_version
    from chosen
    cross join scoring_params
    inner join segments
        on {{ slot_segment_id('scoring_params', 'chosen.slot') }} = segments.segment_id
)

select * from final
