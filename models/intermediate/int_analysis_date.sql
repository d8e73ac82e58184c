-- The analysis date (one row): var as_of when given, else the day after the latest kept
-- order (the run's date when there is none). Metrics count events strictly before it.
with

kept_orders as (
    select ordered_at from {{ ref('stg_shop__orders') }}
),

latest_order as (
    select
        coalesce(
            cast({{ dbt.dateadd('day', 1, 'cast(max(ordered_at) as date)') }} as date),
            cast('{{ run_started_at.strftime("%Y-%m-%d") }}' as date)
        ) as day_after_latest_order
    from kept_orders
),

final as (
    -- latest_order is one row (an aggregate over every kept order): so is this
    select
        {% if var('as_of', none) -%}
            cast('{{ var("as_of") }}' as date)
        {%- else -%}
            latest_order.day_after_latest_order
        {%- endif %} as as_of_date
    from latest_order
)

select * from final
