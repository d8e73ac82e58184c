-- The analysis date (one row): var as_of when given, else the day after the latest kept
-- order. Reads the checked orders rather than the staging table so that staging models can
-- use it (the customers' age band) without a cycle.
with

kept_orders as (
    select ordered_at from {{ ref('base_shop__orders') }}
    where reject_reason is null
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
