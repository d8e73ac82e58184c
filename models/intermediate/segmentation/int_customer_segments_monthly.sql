-- Every customer's segment as of each month end, scored with the current model exactly as
-- customer_segments scores today's features.
with

standardised as (
    {{ standardise_features_wide(ref('int_customer_features_monthly'),
                                 ['as_of_date', 'customer_id']) }}
),

scored as (
    {{ nearest_segment_wide('standardised', ref('int_segment_centroids_current'),
                            ['as_of_date', 'customer_id']) }}
)

select * from scored
