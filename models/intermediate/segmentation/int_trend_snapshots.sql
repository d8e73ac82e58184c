-- The month ends of the trend window: the last `trend_months` (var) complete months before
-- the analysis date. A snapshot counts events strictly before its as_of_date, the first day
-- of the next month, i.e. up to and including month_end_date.
with

analysis_date as (
    select * from {{ ref('int_analysis_date') }}
),

months_back as (
    {{ segmentation.integer_series(var('trend_months', 24) - 1) }}
),

snapshot_dates as (
    select
        cast(
            {{ dbt.dateadd(
                'month', '-months_back.day_offset',
                dbt.date_trunc('month', 'analysis_date.as_of_date')
            ) }} as date
        ) as as_of_date
    from months_back
    cross join analysis_date
),

final as (
    select
        as_of_date,
        cast({{ dbt.dateadd('day', -1, 'as_of_date') }} as date) as month_end_date,
        cast({{ dbt.dateadd('month', -1, 'as_of_date') }} as date) as month_start_date,
        cast({{ dbt.dateadd('month', -1, 'as_of_date') }} as {{ dbt.type_timestamp() }})
            as month_start_at,
        cast(as_of_date as {{ dbt.type_timestamp() }}) as as_of_at
    from snapshot_dates
)

select * from final
