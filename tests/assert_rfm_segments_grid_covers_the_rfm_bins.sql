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

mismatched as (
    -- a pair on one side only: a score pair without a segment, or a segment outside them
    select
        coalesce(scores.r_score, grid.r_score) as r_score,
        coalesce(scores.f_score, grid.f_score) as f_score,
        case
            when grid.r_score is null then 'no segment in rfm_segments'
            else 'outside the scores 1..rfm_bins'
        end as problem
    from scores
    full outer join grid
        on
            scores.r_score = grid.r_score
            and scores.f_score = grid.f_score
    where scores.r_score is null or grid.r_score is null
),

final as (
    select * from mismatched
    {%- if flags.EMPTY %}
        -- `dbt build --empty` reads the seed as no rows: there is no grid to check
        where false
    {%- endif %}
)

select * from final
