-- The SQL scoring (int_segment_scoring_params) has var segmentation_k_max slots for
-- centroids: a current model with more segments (k_max lowered after a fit that is kept,
-- e.g. with segmentation_refit = never) must fail the build, not lose segments.
select count(distinct segment_id) as segments
from {{ ref('int_segment_centroids_current') }}
having count(distinct segment_id) > {{ var('segmentation_k_max') | int }}
