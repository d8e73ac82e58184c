{% macro segmentation_uses_sessions() -%}
    {#- True when var segmentation_features lists a web-session feature: only then do the
        daily activity, the customer metrics and the features join the web sessions. -#}
    {{ return(var('segmentation_features') | select('in', session_feature_names()) | list
              | length > 0) }}
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
