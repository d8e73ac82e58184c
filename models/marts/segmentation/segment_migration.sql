-- Customers moving between segments from one month end to the next (current model, every
-- customer re-scored at both month ends). Customers with no order yet at the earlier month
-- end are new, not migrating, and are counted in segment_trends.new_customers instead.
with

snapshots as (
    select * from {{ ref('int_trend_snapshots') }}
),

monthly_segments as (
    select * from {{ ref('int_customer_segments_monthly') }}
),

consecutive as (
    select
        earlier.as_of_date as from_as_of_date,
        later.as_of_date as to_as_of_date
    from snapshots as earlier
    inner join snapshots as later
        on later.as_of_date = cast({{ dbt.dateadd('month', 1, 'earlier.as_of_date') }} as date)
),

moves as (
    -- each customer's segment at a month end and at the month end before it
    -- (int_customer_segments_monthly carries the previous one)
    select
        consecutive.from_as_of_date,
        consecutive.to_as_of_date,
        monthly_segments.previous_segment_id as from_segment_id,
        monthly_segments.previous_segment_name as from_segment_name,
        monthly_segments.segment_id as to_segment_id,
        monthly_segments.segment_name as to_segment_name,
        count(*) as customers
    from consecutive
    inner join monthly_segments
        on
            consecutive.to_as_of_date = monthly_segments.as_of_date
            and consecutive.from_as_of_date = monthly_segments.previous_as_of_date
    group by
        consecutive.from_as_of_date,
        consecutive.to_as_of_date,
        monthly_segments.previous_segment_id,
        monthly_segments.previous_segment_name,
        monthly_segments.segment_id,
        monthly_segments.segment_name
),

final as (
    select
        cast({{ dbt.dateadd('day', -1, 'from_as_of_date') }} as date) as from_month_end,
        cast({{ dbt.dateadd('day', -1, 'to_as_of_date') }} as date) as to_month_end,
        cast(from_segment_id as integer) as from_segment_id,
        from_segment_name,
        cast(to_segment_id as integer) as to_segment_id,
        to_segment_name,
        cast(customers as bigint) as customers,
        {{ safe_divide(
            'customers',
            'sum(customers) over (partition by from_as_of_date, from_segment_id)'
        ) }} as share_of_from_segment,
        from_segment_id = to_segment_id as is_same_segment
    from moves
)

select * from final
