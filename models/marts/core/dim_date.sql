-- A date spine for BI: every day of the whole calendar years from the first kept order (or
-- return) to the analysis date (or the last return, when one is dated later), with the
-- calendar attributes a report filters and groups by. Every order, return and month end of
-- the marts has its day here; whole years because Power BI's time intelligence (year to
-- date, same period last year) expects a date table that does.
with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

returns as (
    select * from {{ ref('stg_shop__returns') }}
),

analysis_date as (
    select * from {{ ref('int_analysis_date') }}
),

order_bounds as (
    select min(ordered_date) as first_order_date
    from orders
),

return_bounds as (
    select
        min(returned_date) as first_return_date,
        max(returned_date) as last_return_date
    from returns
),

data_bounds as (
    select
        least(
            order_bounds.first_order_date,
            coalesce(return_bounds.first_return_date, order_bounds.first_order_date)
        ) as first_data_date,
        greatest(
            analysis_date.as_of_date,
            coalesce(return_bounds.last_return_date, analysis_date.as_of_date)
        ) as last_data_date
    from order_bounds
    cross join return_bounds
    cross join analysis_date
),

bounds as (
    -- 1 January of the first year to 31 December of the last
    select
        cast({{ dbt.date_trunc('year', 'first_data_date') }} as date) as first_date,
        cast({{ dbt.last_day('last_data_date', 'year') }} as date) as last_date
    from data_bounds
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
        {{ iso_day_of_week('date_day') }} as iso_day_of_week,
        {{ iso_day_of_week('date_day') }} in (6, 7) as is_weekend
    from days
)

select * from final
