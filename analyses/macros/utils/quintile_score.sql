-- quintile_score (macros/utils/scores.sql): higher is better, and lower is better.
with

customers as (
    select
        customer_id,
        count(*) as frequency,
        max(ordered_at) as last_ordered_at
    from {{ ref('stg_shop__orders') }}
    group by customer_id
)

select
    customer_id,
    {{ quintile_score('frequency') }} as frequency_score,
    {{ quintile_score('last_ordered_at', higher_is_better=false) }} as recency_score
from customers
