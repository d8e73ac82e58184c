-- The segmentation's input: customer_features' rows and values, with the web-session features
-- only when var segmentation_features uses one of them. The fit (Python models), the drift
-- and the scoring of customer_segments read this model, so that by default the path from raw
-- files to segments does not stage and aggregate the web sessions, which no default feature
-- needs. Same macros as customer_features; a dbt test checks that the values agree.
{%- set uses_sessions = segmentation_uses_sessions() %}
{%- set comma = ',' if uses_sessions else '' %}
with

customer_orders as (
    select * from {{ ref('int_orders_aggregated_to_customers') }}
),
{%- if uses_sessions %}

customer_sessions as (
    select * from {{ ref('int_sessions_aggregated_to_customers') }}
),
{%- endif %}

final as (
    select
        customer_orders.customer_id,
        {{ customer_order_feature_columns('customer_orders') }}{{ comma }} -- noqa: LT02
        {%- if uses_sessions %}
        {{ customer_session_feature_columns('customer_orders', 'customer_sessions') }}
        {%- endif %}
    from customer_orders
    {%- if uses_sessions %}
    left join customer_sessions
        on
            customer_orders.customer_id = customer_sessions.customer_id
            and customer_orders.as_of_date = customer_sessions.as_of_date
    {%- endif %}
)

select * from final
