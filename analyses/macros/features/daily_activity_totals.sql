-- daily_activity_totals (macros/features/features.sql): a customer's days added up, as
-- int_customer_totals_current and int_customer_metrics select them
select
    daily_activity.customer_id,
    {{- daily_activity_totals('daily_activity') | indent(4) }}
from {{ ref('int_customer_daily_activity') }} as daily_activity
group by daily_activity.customer_id
