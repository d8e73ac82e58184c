-- standardise_feature (macros/segmentation/scoring.sql)
select
    customer_id,
    {{ standardise_feature(
        'cast(monetary as double)', 'true', '5.0', '1.5', '0.0', '5000.0'
    ) }} as z_monetary
from {{ ref('int_customer_features_current') }}
