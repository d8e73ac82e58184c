-- session_conversion_rate (macros/features/features.sql)
select
    customer_sessions.customer_id,
    {{ session_conversion_rate('customer_features.frequency', 'customer_sessions.session_count') }}
        as session_conversion_rate
from {{ ref('int_sessions_aggregated_to_customers') }} as customer_sessions
inner join {{ ref('int_customer_features_current') }} as customer_features
    on customer_sessions.customer_id = customer_features.customer_id
