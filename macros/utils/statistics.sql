{% macro median(expression) -%}
    {{ return(adapter.dispatch('median', 'segmentation')(expression)) }}
{%- endmacro %}

{% macro default__median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__median(expression) -%}
    median({{ expression }})
{%- endmacro %}

{% macro feature_phrase(feature, segment_mean, population_mean) -%}
    {#- A short phrase comparing a segment's mean with the population's, in plain words, e.g.
        "spends 3.1x the average" or "returns 42% of units (average 12%)"; a feature without
        a phrase of its own is named with spaces, never as its column name. -#}
    case {{ feature }}
        when 'monetary' then 'spends ' || {{ ratio_text(segment_mean, population_mean) }}
            || ' the average'
        when 'avg_order_value' then 'baskets ' || {{ ratio_text(segment_mean, population_mean) }}
            || ' the average size'
        when 'frequency' then {{ number_text(segment_mean, 1) }} || ' orders (average '
            || {{ number_text(population_mean, 1) }} || ')'
        when 'recency_days' then 'last order ' || {{ number_text(segment_mean, 0) }}
            || ' days ago (average ' || {{ number_text(population_mean, 0) }} || ')'
        when 'tenure_days' then 'customer for ' || {{ number_text(segment_mean, 0) }}
            || ' days (average ' || {{ number_text(population_mean, 0) }} || ')'
        when 'return_rate_units' then 'returns ' || {{ percent_text(segment_mean) }}
            || ' of units (average ' || {{ percent_text(population_mean) }} || ')'
        when 'return_rate_orders' then 'returns from ' || {{ percent_text(segment_mean) }}
            || ' of orders (average ' || {{ percent_text(population_mean) }} || ')'
        when 'return_rate_value' then 'returns ' || {{ percent_text(segment_mean) }}
            || ' of value (average ' || {{ percent_text(population_mean) }} || ')'
        when 'discount_share' then {{ percent_text(segment_mean) }}
            || ' of spend discounted (average ' || {{ percent_text(population_mean) }} || ')'
        when 'category_breadth' then 'buys from ' || {{ number_text(segment_mean, 1) }}
            || ' categories (average ' || {{ number_text(population_mean, 1) }} || ')'
        when 'avg_days_between_orders' then 'orders every ' || {{ number_text(segment_mean, 0) }}
            || ' days (average ' || {{ number_text(population_mean, 0) }} || ')'
        when 'session_count' then {{ number_text(segment_mean, 1) }}
            || ' web sessions (average ' || {{ number_text(population_mean, 1) }} || ')'
        when 'session_conversion_rate' then 'converts ' || {{ percent_text(segment_mean) }}
            || ' of sessions (average ' || {{ percent_text(population_mean) }} || ')'
        -- a feature added later: its name in words, never the column name
        else replace({{ feature }}, '_', ' ') || ' ' || {{ number_text(segment_mean, 2) }}
            || ' (average ' || {{ number_text(population_mean, 2) }} || ')'
    end
{%- endmacro %}

{% macro number_text(expression, digits) -%}
    coalesce(cast(round(cast({{ expression }} as {{ dbt.type_numeric() }}), {{ digits }})
        as {{ dbt.type_string() }}), 'n/a')
{%- endmacro %}

{% macro percent_text(expression) -%}
    coalesce(cast(cast(round({{ expression }} * 100) as integer) as {{ dbt.type_string() }})
        || '%', 'n/a')
{%- endmacro %}

{% macro ratio_text(numerator, denominator) -%}
    coalesce(
        cast(round(cast({{ safe_divide(numerator, denominator) }} as {{ dbt.type_numeric() }}),
            1) as {{ dbt.type_string() }}) || 'x',
        'n/a'
    )
{%- endmacro %}

{% macro integer_series(upper_bound_sql) -%}
    {{ return(adapter.dispatch('integer_series', 'segmentation')(upper_bound_sql)) }}
{%- endmacro %}

{% macro default__integer_series(upper_bound_sql) -%}
    {#- Rows day_offset = 0..upper bound (inclusive) from a scalar SQL expression. -#}
    {{ exceptions.raise_compiler_error("integer_series: add an implementation for " ~ target.type) }}
{%- endmacro %}

{% macro duckdb__integer_series(upper_bound_sql) -%}
    select cast(generate_series as integer) as day_offset
    from generate_series(0, {{ upper_bound_sql }})
{%- endmacro %}

{% macro spark__integer_series(upper_bound_sql) -%}
    select explode(sequence(0, {{ upper_bound_sql }})) as day_offset
{%- endmacro %}

{% macro stable_double(expression, digits=9) -%}
    {#- A double rounded to `digits` decimals: parallel aggregation adds floats in varying
        order, so the last bits of a mean or a distance can differ between two builds of the
        same data; rounding makes the published marts identical build after build. -#}
    round(cast({{ expression }} as double), {{ digits }})
{%- endmacro %}

{% macro exact_mean(expression) -%}
    {#- The mean of a double column summed as decimals (10 decimal places): a decimal sum is
        exact whatever order parallel threads add the rows in, so the mean is the same in every
        build, where a double sum can differ in its last bits and then round differently at
        stable_double's last digit. -#}
    avg(cast({{ expression }} as decimal(38, 10)))
{%- endmacro %}
