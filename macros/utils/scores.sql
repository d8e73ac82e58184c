{% macro quintile_score(column, higher_is_better=true) -%}
    {#- 1-5 score by quintile of rank: 1 + floor(bins x (rank - 1) / rows), over every row of
        the select. Equal values share a rank, so they always get the same score (no
        tie-breaker: deterministic as it is). 5 = best (highest value, or lowest when
        higher_is_better is false, e.g. recency); missing values rank first and score 1. With
        heavy ties a score holds more or less than a fifth of the rows, and some scores may be
        empty (all one-order customers share one frequency score). -#}
    {#- in integers (integer_divide rounds down), so that a rank on a bin's edge scores the
        same on every engine -#}
    cast(
        1 + {{ integer_divide(
            var('rfm_bins', 5) ~ ' * (rank() over (order by ' ~ column ~ ' '
            ~ ('asc' if higher_is_better else 'desc') ~ ' nulls first) - 1)',
            'count(*) over ()'
        ) }} as integer
    )
{%- endmacro %}
