-- Which categorical attributes set each segment apart: for every attribute value, the
-- share of the segment's customers who have it, the share of all segmented customers who
-- have it, and the lift (the ratio of the two). Attributes: region, age band, acquisition
-- channel (one value per customer, from dim_customers), and sales channel, category bought,
-- category returned and return reason (any order or return before the analysis date). A
-- value held by fewer than var segment_attribute_min_customers customers of the segment is
-- kept but not ranked: its lift is noise.
with

customer_segments as (
    select * from {{ ref('customer_segments') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

analysis_date as (
    select * from {{ ref('int_analysis_date') }}
),

order_items as (
    select all_items.*
    from {{ ref('fct_order_items') }} as all_items
    inner join analysis_date
        on all_items.ordered_date < analysis_date.as_of_date
    where not all_items.is_cancelled
),

orders as (
    select all_orders.*
    from {{ ref('fct_orders') }} as all_orders
    inner join analysis_date
        on all_orders.ordered_date < analysis_date.as_of_date
    where all_orders.is_purchase
),

returns as (
    select all_returns.*
    from {{ ref('fct_returns') }} as all_returns
    inner join analysis_date
        on all_returns.returned_date < analysis_date.as_of_date
),

customer_attributes as (
    -- one row per customer and attribute value they have ('unknown' when missing): each
    -- branch is distinct and the branches have different attribute names, so a value's
    -- customers can be counted without a distinct count
    select
        customer_id,
        'region' as attribute_name,
        coalesce(region, 'unknown') as attribute_value
    from customers
    union all
    select
        customer_id,
        'age_band' as attribute_name,
        coalesce(age_band, 'unknown') as attribute_value
    from customers
    union all
    select
        customer_id,
        'acquisition_channel' as attribute_name,
        coalesce(acquisition_channel, 'unknown') as attribute_value
    from customers
    union all
    select distinct
        customer_id,
        'sales_channel' as attribute_name,
        coalesce(sales_channel, 'unknown') as attribute_value
    from orders
    union all
    select distinct
        customer_id,
        'category_bought' as attribute_name,
        coalesce(category, 'unknown') as attribute_value
    from order_items
    union all
    select distinct
        customer_id,
        'category_returned' as attribute_name,
        coalesce(category, 'unknown') as attribute_value
    from returns
    union all
    select distinct
        customer_id,
        'return_reason' as attribute_name,
        coalesce(return_reason, 'unknown') as attribute_value
    from returns
),

segmented_attributes as (
    select
        customer_segments.segment_id,
        customer_attributes.attribute_name,
        customer_attributes.attribute_value,
        customer_attributes.customer_id
    from customer_attributes
    inner join customer_segments
        on customer_attributes.customer_id = customer_segments.customer_id
),

segment_sizes as (
    select
        segment_id,
        segment_name,
        count(*) as customers
    from customer_segments
    group by segment_id, segment_name
),

value_counts as (
    select
        segment_id,
        attribute_name,
        attribute_value,
        count(*) as customers_with_value
    from segmented_attributes
    group by segment_id, attribute_name, attribute_value
),

population_counts as (
    select
        attribute_name,
        attribute_value,
        sum(customers_with_value) as customers_with_value
    from value_counts
    group by attribute_name, attribute_value
),

shares as (
    select
        value_counts.segment_id,
        segment_sizes.segment_name,
        value_counts.attribute_name,
        value_counts.attribute_value,
        value_counts.customers_with_value,
        cast(value_counts.customers_with_value as double) / segment_sizes.customers
            as segment_share,
        cast(population_counts.customers_with_value as double)
        / (select sum(all_sizes.customers) from segment_sizes as all_sizes) as population_share,
        value_counts.customers_with_value >= {{ var('segment_attribute_min_customers') }}
            as is_supported
    from value_counts
    inner join segment_sizes
        on value_counts.segment_id = segment_sizes.segment_id
    inner join population_counts
        on
            value_counts.attribute_name = population_counts.attribute_name
            and value_counts.attribute_value = population_counts.attribute_value
),

final as (
    select
        cast(segment_id as integer) as segment_id,
        segment_name,
        attribute_name,
        attribute_value,
        cast(customers_with_value as bigint) as customers_with_value,
        {{ stable_double('segment_share') }} as segment_share,
        {{ stable_double('population_share') }} as population_share,
        {{ stable_double('segment_share / population_share') }} as lift,
        is_supported,
        cast(
            case
                when is_supported
                    then row_number() over (
                            partition by segment_id, is_supported
                            order by
                                segment_share / population_share desc,
                                attribute_name,
                                attribute_value asc
                        )
            end as integer
        ) as lift_rank
    from shares
)

select * from final
