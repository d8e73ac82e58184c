-- On the fit sample of the latest model version, the SQL scoring (customer_segments) gives
-- every customer the same segment as the Python fit (segment_fit_sample). Fails on any
-- customer where they differ. The fit sample's raw values are the current features when
-- the version was fitted in this build; a later build with changed data skips the check.
with

latest_version as (
    select max(model_version) as model_version from {{ ref('segment_centroids') }}
),

python_labels as (
    select distinct
        fit_sample.customer_id,
        fit_sample.segment_id
    from {{ ref('segment_fit_sample') }} as fit_sample
    inner join latest_version
        on fit_sample.model_version = latest_version.model_version
),

fitted_this_build as (
    select count(*) as versions
    from {{ ref('segment_k_selection') }}
    where
        model_version = (select latest_version.model_version from latest_version)
        and fitted_at = {{ run_started_timestamp() }}
)

select
    python_labels.customer_id,
    python_labels.segment_id as python_segment_id,
    customer_segments.segment_id as sql_segment_id
from python_labels
left join {{ ref('customer_segments') }} as customer_segments
    on python_labels.customer_id = customer_segments.customer_id
where
    (select fitted_this_build.versions from fitted_this_build) > 0
    and customer_segments.segment_id is distinct from python_labels.segment_id
