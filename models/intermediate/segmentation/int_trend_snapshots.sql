-- The month ends of the trend window: the last `trend_months` (var) complete months before
-- the analysis date. A snapshot counts events strictly before snapshot_date, the first day
-- of the next month, i.e. up to and including month_end_date.
with

snapshot_dates as (
    {%- for months_back in range(var('trend_months', 24)) %}
    select
        cast(
            {{ dbt.dateadd('month', -months_back, dbt.date_trunc('month', as_of_date())) }}
            as date
        ) as as_of_date
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        as_of_date,
        cast({{ dbt.dateadd('day', -1, 'as_of_date') }} as date) as month_end_date,
        cast({{ dbt.dateadd('month', -1, 'as_of_date') }} as date) as month_start_date
    from snapshot_dates
)

select * from final
