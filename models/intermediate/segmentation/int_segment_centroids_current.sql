-- The centroids of the current (latest) model version: what every build scores with.
with

centroids as (
    select * from {{ ref('segment_centroids') }}
),

final as (
    select * from centroids
    where model_version = (select max(versions.model_version) from centroids as versions)
)

select * from final
