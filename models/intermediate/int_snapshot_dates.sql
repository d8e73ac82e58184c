-- The dates the customer metrics are taken at, in two sets: `current` (the analysis date:
-- customer_features, the fit and customer_segments) and `month_end` (the first day after
-- each month end of the trend window: segment_trends and segment_migration). A snapshot
-- counts the activity of the days strictly before its as_of_date.
with

analysis_date as (
    select * from {{ ref('int_analysis_date') }}
),

trend_snapshots as (
    select * from {{ ref('int_trend_snapshots') }}
),

final as (
    select
        'current' as snapshot_set,
        as_of_date
    from analysis_date
    union all
    select
        'month_end' as snapshot_set,
        as_of_date
    from trend_snapshots
)

select * from final
