-- Segment sizes of every build (one block of rows per dbt invocation), so each run can be
-- compared with the one before.
with

customer_segments as (
    select * from {{ ref('customer_segments') }}
),

final as (
    select
        '{{ invocation_id }}' as run_id,
        {{ run_started_timestamp() }} as run_started_at,
        cast(model_version as integer) as model_version,
        cast(segment_id as integer) as segment_id,
        segment_name,
        cast(count(*) as bigint) as customers,
        count(*) * 1.0 / sum(count(*)) over () as customer_share
    from customer_segments
    group by model_version, segment_id, segment_name
)

select * from final
