-- feature_phrase (macros/utils/statistics.sql), with number_text, percent_text and ratio_text.
with

means as (
    select
        'monetary' as feature,
        avg(net_amount) as segment_mean,
        avg(gross_amount) as population_mean
    from {{ ref('stg_shop__order_items') }}
)

-- LT01 is ignored on the call: dbt.type_numeric() renders "numeric(28,6)" (no space).
select {{ feature_phrase('feature', 'segment_mean', 'population_mean') }} as phrase  -- noqa: LT01
from means
