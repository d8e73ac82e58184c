{% macro segmentation_uses_sessions() -%}
    {#- True when var segmentation_features lists a web-session feature: only then do the
        daily activity, the customer metrics and the features join the web sessions. -#}
    {{ return(var('segmentation_features') | select('in', session_feature_names()) | list
              | length > 0) }}
{%- endmacro %}


{% macro daily_activity_sums() -%}
    {#- The columns of int_customer_daily_activity that a customer's totals add up (the web
        sessions' only with a session feature): read by int_customer_totals_current (the
        totals as of the analysis date) and int_customer_metrics (those as of each month
        end). -#}
    {{ return([
        'orders_placed', 'orders_cancelled', 'orders_kept', 'units_sold', 'gross_amount',
        'discount_amount', 'net_sales', 'new_categories', 'units_returned', 'refund_amount',
        'orders_first_returned',
    ] + ([
        'session_count', 'page_views', 'product_views', 'cart_adds', 'sessions_with_cart_add',
    ] if segmentation_uses_sessions() else [])) }}
{%- endmacro %}


{% macro daily_activity_totals(daily_activity) -%}
    {#- The select list that adds up a customer's days of int_customer_daily_activity (alias
        daily_activity) in a group by customer: the sums of daily_activity_sums, the last web
        session (with a session feature) and the first and last order. -#}
    {%- for column in daily_activity_sums() %}
    sum({{ daily_activity }}.{{ column }}) as {{ column }},
    {%- endfor %}
    {%- if segmentation_uses_sessions() %}
    max({{ daily_activity }}.last_session_at) as last_session_at,
    {%- endif %}
    min({{ daily_activity }}.first_order_at) as first_order_at,
    max({{ daily_activity }}.last_order_at) as last_order_at
{%- endmacro %}


{% macro session_feature_names() -%}
    {#- The features that need the web sessions. -#}
    {{ return(['session_count', 'session_conversion_rate']) }}
{%- endmacro %}


{% macro session_conversion_rate(orders, sessions) -%}
    {#- Orders per identified web session, capped at 1; null without a session. -#}
    case
        when {{ sessions }} > 0
            then least({{ safe_divide(orders, sessions) }}, 1.0)
    end
{%- endmacro %}
