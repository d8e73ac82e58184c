-- The seed rfm_segments names each pair of scores 1..var rfm_bins once: with another
-- rfm_bins the grid must change with it, or customer_rfm would name the scores after a
-- grid of another size (4 bins on the 5 x 5 grid: no customer is a Champion). Rows: the
-- pairs the grid lacks and the pairs outside the scores.
{%- set bins = var('rfm_bins') | int %}
{%- set pairs = [] %}
{%- for r_score in range(1, bins + 1) %}
    {%- for f_score in range(1, bins + 1) %}
        {%- do pairs.append(
            'select ' ~ r_score ~ ' as r_score, ' ~ f_score ~ ' as f_score'
        ) %}
    {%- endfor %}
{%- endfor %}
with

scores as (
    {{ pairs | join('\n    union all\n    ') }}
),

grid as (
    select
        r_score,
        f_score
    from {{ ref('rfm_segments') }}
),

missing as (
    select
        scores.r_score,
        scores.f_score,
        'no segment in rfm_segments' as problem
    from scores
    left join grid
        on
            scores.r_score = grid.r_score
            and scores.f_score = grid.f_score
    where grid.r_score is null
),

outside as (
    select
        grid.r_score,
        grid.f_score,
        'outside the scores 1..rfm_bins' as problem
    from grid
    left join scores
        on
            grid.r_score = scores.r_score
            and grid.f_score = scores.f_score
    where scores.r_score is null
)

select * from missing
union all
select * from outside
