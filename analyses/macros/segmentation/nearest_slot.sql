-- smallest_slot_distance, first_slot_at and slot_segment_id (macros/segmentation/scoring.sql)
-- on rows with one distance__<i> column per slot.
with

distances as (
    select
        customer_id,
        {%- for slot in scoring_slots() %}
            cast(hash(customer_id || '{{ slot }}') % 100 as double) as distance__{{ slot }},
        {%- endfor %}
        1 as row_weight
    from {{ ref('int_customer_features_current') }}
),

nearest as (
    select
        distances.*,
        {{ smallest_slot_distance('distances') }} as distance
    from distances
)

select
    nearest.customer_id,
    {{ first_slot_at('nearest', 'nearest.distance') }} as slot,
    {{ slot_segment_id('scoring_params', first_slot_at('nearest', 'nearest.distance')) }}
        as segment_id,
    {{ smallest_slot_distance('nearest', except_slot='1') }} - nearest.distance as margin
from nearest
cross join {{ ref('int_segment_scoring_params') }} as scoring_params
