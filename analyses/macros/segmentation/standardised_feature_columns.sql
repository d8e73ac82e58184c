-- standardised_feature_columns (macros/segmentation/scoring.sql): one z__<feature> per
-- configured feature.
select
    customer_features.customer_id,
    {{ standardised_feature_columns('customer_features', 'scoring_params') }}
from {{ ref('int_customer_features_current') }} as customer_features
cross join {{ ref('int_segment_scoring_params') }} as scoring_params
