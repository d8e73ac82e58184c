-- future_cutoff (macros/utils/as_of.sql)
select order_id
from {{ ref('base_shop__orders') }}
where ordered_at > {{ future_cutoff() }}
