-- slot_distance_columns (macros/segmentation/scoring.sql): one distance__<i> per slot.
with

standardised as (
    select
        customer_features.customer_id,
        {{ standardised_feature_columns('customer_features', 'scoring_params') }}
    from {{ ref('int_customer_features_current') }} as customer_features
    cross join {{ ref('int_segment_scoring_params') }} as scoring_params
)

select
    standardised.customer_id,
    {{ slot_distance_columns('standardised', 'scoring_params') }}
from standardised
cross join {{ ref('int_segment_scoring_params') }} as scoring_params
