-- The analysis date (one row): var as_of when given, else the day after the latest kept
-- order (the run's date when there is none). Metrics count events strictly before it.
with

kept_orders as (
    select ordered_at from {{ ref('stg_shop__orders') }}
),

final as (
    select
        {% if var('as_of', none) -%}
            cast('{{ var("as_of") }}' as date)
        {%- else -%}
            coalesce(
                cast({{ dbt.dateadd('day', 1, 'cast(max(ordered_at) as date)') }} as date),
                cast('{{ run_started_at.strftime("%Y-%m-%d") }}' as date)
            )
        {%- endif %} as as_of_date
    from kept_orders
)

select * from final
