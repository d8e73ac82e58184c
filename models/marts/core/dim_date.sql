-- A date spine for BI: every day from the first kept order to the analysis date, with the
-- calendar attributes a report filters and groups by.
with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

analysis_date as (
    select * from {{ ref('int_analysis_date') }}
),

bounds as (
    select
        min(orders.ordered_date) as first_date,
        max(analysis_date.as_of_date) as last_date
    from orders
    cross join analysis_date
),

day_offsets as (
    {{ segmentation.integer_series(
        "(select " ~ dbt.datediff('first_date', 'last_date', 'day') ~ " from bounds)"
    ) }}
),

days as (
    select
        cast({{ dbt.dateadd('day', 'day_offsets.day_offset', 'bounds.first_date') }} as date)
            as date_day
    from day_offsets
    cross join bounds
),

final as (
    select
        date_day,
        cast(extract(year from date_day) as integer) as year_number,
        cast(extract(quarter from date_day) as integer) as quarter_number,
        cast(extract(month from date_day) as integer) as month_number,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start_date,
        cast({{ dbt.last_day('date_day', 'month') }} as date) as month_end_date,
        cast(extract(isodow from date_day) as integer) as iso_day_of_week,
        extract(isodow from date_day) in (6, 7) as is_weekend
    from days
)

select * from final
