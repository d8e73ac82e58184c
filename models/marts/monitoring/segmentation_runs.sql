-- One row per build: did it refit and why, how many customers it scored, the current
-- model's k and the rule that chose it, fit quality, cluster structure verdict and
-- stability, feature drift against the model's fit sample, how far segment shares moved
-- since the previous build, and how many customers have no segment for having no kept
-- order; a refit also lists the segments that kept their id but were renamed.
{% do segmentation.require_run_started() %}

with

run_started as (
    -- this run: on Spark the fit runs between two dbt invocations, and the run is the first
    -- (int_run_started is built before the fit, which stamps a new version with its time)
    select * from {{ ref('int_run_started') }}
),

k_selection as (
    select * from {{ ref('segment_k_selection') }}
),

current_version as (
    select max(model_version) as model_version from {{ ref('segment_centroids') }}
),

chosen as (
    select k_selection.*
    from k_selection
    inner join current_version
        on k_selection.model_version = current_version.model_version
    where k_selection.is_chosen
),

stability as (
    select
        avg(segment_stability.mean_jaccard) as mean_stability,
        min(segment_stability.mean_jaccard) as min_stability,
        max(segment_stability.mean_ari) as mean_ari,
        max(segment_stability.bootstrap_resamples) as stability_resamples,
        max(segment_stability.verdict_rule) as stability_verdict_rule
    from {{ ref('segment_stability') }} as segment_stability
    inner join current_version
        on segment_stability.model_version = current_version.model_version
),

drift as (
    select
        max(psi) as max_psi,
        sum(case when psi > {{ var('segmentation_psi_refit_threshold') }} then 1 else 0 end)
            as drifted_features,
        {{ dbt.listagg(
            "feature || '=' || cast(round(cast(psi as " ~ dbt.type_numeric() ~ "), 3) as "
            ~ dbt.type_string() ~ ")", "'; '", 'order by psi desc, feature') }} as psi_by_feature
    from {{ ref('segment_feature_drift') }}
),

run_segments as (
    select * from {{ ref('segmentation_run_segments') }}
),

this_run as (
    select * from run_segments
    where run_id = (select run_started.run_id from run_started)
),

earlier_runs as (
    select * from run_segments
    where run_id != (select run_started.run_id from run_started)
),

previous_run as (
    select * from earlier_runs
    where run_started_at = (select max(latest.run_started_at) from earlier_runs as latest)
),

renames as (
    -- segments of the current version that kept their id but not their name
    select
        {{ dbt.listagg(
            "cast(segment_id as " ~ dbt.type_string() ~ ") || ': ' || previous_segment_name"
            ~ " || ' -> ' || segment_name", "'; '", 'order by segment_id'
        ) }} as renamed_segments
    from (
        select distinct
            segment_id,
            segment_name,
            previous_segment_name
        from {{ ref('int_segment_centroids_current') }}
        where previous_segment_name is not null
    ) as renamed
),

not_segmented as (
    -- customers without a kept order (never ordered, or every order cancelled): no segment
    select
        count(*) as customers_without_kept_order,
        count(case when has_order then 1 end) as customers_with_only_cancelled_orders
    from {{ ref('dim_customers') }}
    where not is_buyer
),

share_shift as (
    -- total variation distance between the two runs' segment shares (0 = identical)
    select
        sum(
            abs(coalesce(this_run.customer_share, 0) - coalesce(previous_run.customer_share, 0))
        ) / 2 as segment_share_shift
    from this_run
    full outer join previous_run
        on this_run.segment_id = previous_run.segment_id
    having count(previous_run.segment_id) > 0
),

final as (
    select
        run_started.run_id,
        run_started.run_started_at,
        cast(chosen.model_version as integer) as model_version,
        coalesce(chosen.fitted_at = run_started.run_started_at, false) as refitted,
        case
            when chosen.fitted_at = run_started.run_started_at then chosen.refit_reason
            else 'no refit (segmentation_refit={{ var("segmentation_refit") }})'
        end as refit_reason,
        (select cast(sum(this_run.customers) as bigint) from this_run) as customers_scored,
        cast(chosen.k as integer) as k,
        chosen.inertia,
        chosen.silhouette,
        chosen.cluster_structure,
        chosen.structure_reason,
        stability.mean_stability,
        stability.min_stability,
        stability.mean_ari,
        cast(stability.stability_resamples as integer) as stability_resamples,
        stability.stability_verdict_rule,
        drift.max_psi,
        cast(coalesce(drift.drifted_features, 0) as integer) as drifted_features,
        drift.psi_by_feature,
        (select share_shift.segment_share_shift from share_shift) as segment_share_shift,
        cast(not_segmented.customers_without_kept_order as bigint)
            as customers_without_kept_order,
        cast(not_segmented.customers_with_only_cancelled_orders as bigint)
            as customers_with_only_cancelled_orders,
        case
            when chosen.fitted_at = run_started.run_started_at then renames.renamed_segments
        end as renamed_segments,
        -- last, so that a history built before they existed gets them appended in place
        chosen.method as k_method,
        chosen.reason as k_reason
    from chosen
    cross join run_started
    cross join stability
    cross join drift
    cross join not_segmented
    cross join renames
)

select * from final
