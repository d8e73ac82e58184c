-- For the heatmap: per segment and feature, the segment's mean standardised value (how
-- many standard deviations it sits from the average customer) and the raw means.
with

standardised as (
    select * from {{ ref('int_customer_features_standardised') }}
),

customer_segments as (
    select * from {{ ref('customer_segments') }}
),

population as (
    select
        feature,
        {{ exact_mean('feature_value') }} as population_mean
    from standardised
    group by feature
),

by_segment as (
    select
        customer_segments.model_version,
        customer_segments.segment_id,
        customer_segments.segment_name,
        standardised.feature,
        {{ exact_mean('standardised.z') }} as standardised_deviation,
        {{ exact_mean('standardised.feature_value') }} as segment_mean
    from standardised
    inner join customer_segments
        on standardised.customer_id = customer_segments.customer_id
    group by
        customer_segments.model_version,
        customer_segments.segment_id,
        customer_segments.segment_name,
        standardised.feature
),

final as (
    select
        cast(by_segment.model_version as integer) as model_version,
        cast(by_segment.segment_id as integer) as segment_id,
        by_segment.segment_name,
        by_segment.feature,
        {{ stable_double('by_segment.standardised_deviation') }} as standardised_deviation,
        {{ stable_double('by_segment.segment_mean') }} as segment_mean,
        {{ stable_double('population.population_mean') }} as population_mean
    from by_segment
    inner join population
        on by_segment.feature = population.feature
)

select * from final
