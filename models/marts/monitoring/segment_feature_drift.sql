-- Feature drift of this build: the Population Stability Index of each segmentation feature,
-- today's customers against the fit sample of the model in force when the build started,
-- over that sample's decile bins (plus a bin for missing values and one each for values
-- below and above the range the sample had). Every configured feature is measured, also one
-- the fit dropped as constant or empty: when it starts to vary, it shows here.
-- PSI = sum over bins of (actual - expected) * ln(actual / expected), shares floored at
-- 0.0001. Rule of thumb: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 major shift.
-- No rows on the first build, when there is no model yet.
{%- set bins = 10 %}
with

fit_samples as (
    select * from {{ ref('stg_segmentation_state__fit_samples') }}
),

customer_features as (
    select * from {{ ref('int_customer_features_current') }}
),

reference_values as (
    -- the fit sample of the latest model version
    select
        customer_id as row_key,
        feature,
        feature_value,
        model_version
    from fit_samples
    where model_version = (select max(versions.model_version) from fit_samples as versions)
),

features_long as (
    -- today's value of every configured feature
    {%- for feature in var('segmentation_features') %}
        select
            customer_id as row_key,
            '{{ feature }}' as feature,
            cast({{ feature }} as double) as feature_value
        from customer_features
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

current_values as (
    -- only the features the reference has
    select features_long.*
    from features_long
    where features_long.feature in (select reference_values.feature from reference_values)
),

reference_deciles as (
    select
        feature,
        feature_value,
        ntile({{ bins }}) over (partition by feature order by feature_value) as decile
    from reference_values
    where feature_value is not null
),

edges as (
    -- bin i of a feature holds the values up to the i-th decile's largest value
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

reference_ranges as (
    -- a value outside the range the model saw gets a bin of its own, below or above, so a
    -- feature that was constant at fit time (one bin) still shows drift when it varies
    select
        feature,
        min(feature_value) as lowest_value,
        max(feature_value) as highest_value
    from reference_values
    group by feature
),

edge_columns as (
    -- one row per feature with its (at most {{ bins }}) upper edges side by side, so that a
    -- value finds its bin with one comparison per edge instead of a join to every edge
    select
        feature,
        {%- for bin in range(1, bins + 1) %}
            max(case when bin = {{ bin }} then upper_edge end) as upper_edge_{{ bin }},
        {%- endfor %}
        max(bin) as top_bin
    from edges
    group by feature
),

all_values as (
    select
        'reference' as side,
        row_key,
        feature,
        feature_value
    from reference_values
    union all
    select
        'current' as side,
        row_key,
        feature,
        feature_value
    from current_values
),

binned as (
    -- the first edge at or above the value, 0 if missing; below the lowest reference value
    -- bin -1, above the highest the bin after the top one (bin 1 when the reference had no
    -- value at all)
    select
        all_values.side,
        all_values.feature,
        case
            when all_values.feature_value is null then 0
            when reference_ranges.highest_value is null then 1
            when all_values.feature_value < reference_ranges.lowest_value then -1
            when all_values.feature_value > reference_ranges.highest_value
                then edge_columns.top_bin + 1
            {%- for bin in range(1, bins + 1) %}
                when all_values.feature_value <= edge_columns.upper_edge_{{ bin }} then {{ bin }}
            {%- endfor %}
        end as bin
    from all_values
    left join edge_columns
        on all_values.feature = edge_columns.feature
    left join reference_ranges
        on all_values.feature = reference_ranges.feature
),

shares as (
    select
        side,
        feature,
        bin,
        cast(count(*) as double) / sum(count(*)) over (partition by side, feature) as bin_share
    from binned
    group by side, feature, bin
),

reference_shares as (
    select * from shares
    where side = 'reference'
),

current_shares as (
    select * from shares
    where side = 'current'
),

bin_terms as (
    select
        coalesce(reference_shares.feature, current_shares.feature) as feature,
        greatest(coalesce(reference_shares.bin_share, 0), 0.0001) as expected_share,
        greatest(coalesce(current_shares.bin_share, 0), 0.0001) as actual_share
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
