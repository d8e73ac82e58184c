-- Segment sizes of every build (one block of rows per dbt invocation), so each run can be
-- compared with the one before.
{% do segmentation.require_run_started() %}

with

customer_segments as (
    select * from {{ ref('customer_segments') }}
),

run_started as (
    -- this run: on Spark the fit runs between two dbt invocations, and the run is the first
    select * from {{ ref('int_run_started') }}
),

segment_sizes as (
    select
        cast(model_version as integer) as model_version,
        cast(segment_id as integer) as segment_id,
        segment_name,
        cast(count(*) as bigint) as customers,
        cast(count(*) as double) / sum(count(*)) over () as customer_share
    from customer_segments
    group by model_version, segment_id, segment_name
),

final as (
    select
        run_started.run_id,
        run_started.run_started_at,
        segment_sizes.model_version,
        segment_sizes.segment_id,
        segment_sizes.segment_name,
        segment_sizes.customers,
        segment_sizes.customer_share
    from segment_sizes
    cross join run_started
)

select * from final
