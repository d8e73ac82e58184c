-- Every customer's segmentation features, long (customer_id, feature), transformed exactly
-- as the current model was fitted: log1p where use_log, standardised, missing -> 0.
{{ standardise_features(ref('int_segmentation_features'), ['customer_id']) }}
