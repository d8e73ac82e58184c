-- The centroids of the current (latest) model version: what every build scores with.
-- A new version counts only once all four fit models wrote it: the scoring waits for the
-- stability and the fit sample too, so a build whose fit fails part-way skips the scoring
-- and customer_segments keeps the last good version (the on-run-end hook
-- rollback_failed_refit then removes the partial version).
-- depends_on: {{ ref('segment_stability') }}
-- depends_on: {{ ref('segment_fit_sample') }}
with

centroids as (
    select * from {{ ref('segment_centroids') }}
),

final as (
    select * from centroids
    where model_version = (select max(versions.model_version) from centroids as versions)
)

select * from final
