-- Feature drift of this build: the Population Stability Index of each segmentation feature,
-- today's customers against the fit sample of the model in force when the build started,
-- over that sample's decile bins (plus a bin for missing values).
-- PSI = sum over bins of (actual - expected) * ln(actual / expected), shares floored at
-- 0.0001. Rule of thumb: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 major shift.
-- No rows on the first build, when there is no model yet.
{%- set has_reference = relation_exists('marts', 'segment_fit_sample') %}
with

reference_values as (
    {%- if has_reference %}
        select
            fit_sample.customer_id as row_key,
            fit_sample.feature,
            fit_sample.feature_value,
            fit_sample.model_version
        from {{ source('segmentation_state', 'segment_fit_sample') }} as fit_sample
        where fit_sample.model_version = (
                select max(versions.model_version)
                from {{ source('segmentation_state', 'segment_fit_sample') }} as versions
            )
    {%- else %}
        select
            cast(null as {{ dbt.type_string() }}) as row_key,
            cast(null as {{ dbt.type_string() }}) as feature,
            cast(null as double) as feature_value,
            cast(null as integer) as model_version
        where 1 = 0
    {%- endif %}
),

current_values as (
    select
        customer_id as row_key,
        feature,
        feature_value
    from ({{ unpivot_features(ref('int_segmentation_features'), ['customer_id']) }}) as unpivoted
    where feature in (select reference_values.feature from reference_values)
),

reference_deciles as (
    select
        feature,
        feature_value,
        ntile(10) over (partition by feature order by feature_value) as decile
    from reference_values
    where feature_value is not null
),

edges as (
    select
        feature,
        upper_edge,
        row_number() over (partition by feature order by upper_edge) as bin
    from (
        select distinct
            feature,
            max(feature_value) over (partition by feature, decile) as upper_edge
        from reference_deciles
    ) as decile_edges
),

reference_bins as (
    {{ psi_binned('reference_values', 'edges') }}
),

current_bins as (
    {{ psi_binned('current_values', 'edges') }}
),

reference_shares as (
    select
        feature,
        bin,
        count(*) * 1.0 / sum(count(*)) over (partition by feature) as expected_share
    from reference_bins
    group by feature, bin
),

current_shares as (
    select
        feature,
        bin,
        count(*) * 1.0 / sum(count(*)) over (partition by feature) as actual_share
    from current_bins
    group by feature, bin
),

bin_terms as (
    select
        coalesce(reference_shares.feature, current_shares.feature) as feature,
        greatest(coalesce(reference_shares.expected_share, 0), 0.0001) as expected_share,
        greatest(coalesce(current_shares.actual_share, 0), 0.0001) as actual_share
    from reference_shares
    full outer join current_shares
        on
            reference_shares.feature = current_shares.feature
            and reference_shares.bin = current_shares.bin
),

final as (
    select
        (select cast(max(model_version) as integer) from reference_values)
            as reference_model_version,
        feature,
        {{ stable_double(
            'sum((actual_share - expected_share) * ln(actual_share / expected_share))'
        ) }} as psi
    from bin_terms
    group by feature
)

select * from final
