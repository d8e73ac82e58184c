{% macro quintile_score(column, higher_is_better=true, tie_breaker='customer_id') -%}
    {#- 1-5 score by quintile (ntile over the ordered customers). Ties go by tie_breaker so a
        build is deterministic; 5 = best (highest value, or lowest when higher_is_better is
        false, e.g. recency); missing values score 1. -#}
    ntile({{ var('rfm_bins', 5) }}) over (
        order by
        {%- if higher_is_better %}
            {{ column }} asc nulls first,
        {%- else %}
            {{ column }} desc nulls first,
        {%- endif %}
            {{ tie_breaker }} asc
    )
{%- endmacro %}
