-- integer_series (macros/utils/statistics.sql), dispatched.
with

day_offsets as (
    {{ integer_series('30') }}
)

select day_offset from day_offsets
