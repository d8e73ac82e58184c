-- On every build, refit or not: the SQL scoring steps of customer_segments (the same
-- macros and scoring parameters) applied to the stored fit sample of the current model
-- version (segment_fit_sample: each sampled customer's feature values when the version was
-- fitted) give every customer the segment Python gave it. Catches a change to the scoring
-- SQL or the stored parameters that would score customers differently from the fit, even
-- in builds that only re-score. (assert_sql_scoring_equals_python_labels checks the
-- customer_segments table itself, in the build that fits a version.)
{%- set features = var('segmentation_features') %}
with

scoring_params as (
    select * from {{ ref('int_segment_scoring_params') }}
),

fit_sample as (
    select fit_sample.*
    from {{ ref('segment_fit_sample') }} as fit_sample
    inner join scoring_params
        on fit_sample.model_version = scoring_params.model_version
),

fit_sample_wide as (
    -- one row per sampled customer, one column per configured feature
    select
        customer_id,
        max(segment_id) as python_segment_id,
        {%- for feature in features %}
            max(case when feature = '{{ feature }}' then feature_value end) as {{ feature }},
        {%- endfor %}
        count(distinct segment_id) as python_labels
    from fit_sample
    group by customer_id
),

standardised as (
    select
        fit_sample_wide.customer_id,
        {{ standardised_feature_columns('fit_sample_wide', 'scoring_params') }}
    from fit_sample_wide
    cross join scoring_params
),

distances as (
    select
        standardised.customer_id,
        {{ slot_distance_columns('standardised', 'scoring_params') }}
    from standardised
    cross join scoring_params
),

chosen as (
    select
        distances.customer_id,
        {{ first_slot_at('distances', smallest_slot_distance('distances')) }} as slot
    from distances
),

sql_labels as (
    select
        chosen.customer_id,
        {{ slot_segment_id('scoring_params', 'chosen.slot') }} as sql_segment_id
    from chosen
    cross join scoring_params
)

select
    fit_sample_wide.customer_id,
    fit_sample_wide.python_segment_id,
    sql_labels.sql_segment_id
from fit_sample_wide
left join sql_labels
    on fit_sample_wide.customer_id = sql_labels.customer_id
where
    fit_sample_wide.python_labels != 1
    or sql_labels.sql_segment_id is distinct from fit_sample_wide.python_segment_id
