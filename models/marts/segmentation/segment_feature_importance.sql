-- How much of each feature's variance the segments explain: eta squared = between-segment
-- sum of squares / total sum of squares of the standardised feature, over every scored
-- customer. 1 = the segments separate customers on this feature completely, 0 = not at all.
with

standardised as (
    select * from {{ ref('int_customer_features_standardised') }}
),

customer_segments as (
    select * from {{ ref('customer_segments') }}
),

labelled as (
    select
        standardised.feature,
        standardised.z,
        customer_segments.segment_id,
        customer_segments.model_version
    from standardised
    inner join customer_segments
        on standardised.customer_id = customer_segments.customer_id
),

feature_means as (
    select
        feature,
        -- decimal sums: the same in every build whatever order threads add the rows in
        {{ exact_mean('z') }} as grand_mean,
        cast(sum(cast(z * z as decimal(38, 10))) as double)
        - count(*) * {{ exact_mean('z') }} * {{ exact_mean('z') }}
            as total_sum_of_squares
    from labelled
    group by feature
),

segment_means as (
    select
        feature,
        segment_id,
        count(*) as customers,
        {{ exact_mean('z') }} as segment_mean
    from labelled
    group by feature, segment_id
),

between_segments as (
    select
        segment_means.feature,
        sum(
            segment_means.customers
            * (segment_means.segment_mean - feature_means.grand_mean)
            * (segment_means.segment_mean - feature_means.grand_mean)
        ) as between_sum_of_squares
    from segment_means
    inner join feature_means
        on segment_means.feature = feature_means.feature
    group by segment_means.feature
),

eta as (
    select
        feature_means.feature,
        coalesce(
            {{ safe_divide('between_segments.between_sum_of_squares',
                           'feature_means.total_sum_of_squares') }},
            0
        ) as eta_squared
    from feature_means
    inner join between_segments
        on feature_means.feature = between_segments.feature
),

final as (
    select
        (select cast(max(model_version) as integer) from labelled) as model_version,
        feature,
        {{ stable_double('least(greatest(eta_squared, 0.0), 1.0)') }} as eta_squared,
        cast(row_number() over (order by eta_squared desc, feature asc) as integer)
            as importance_rank
    from eta
)

select * from final
