-- This dbt invocation: its id and start time, compiled when the build runs. The k selection
-- (a Python model) stamps a new model version's fitted_at with this time: its own yml
-- config is rendered when dbt parses, and a partial parse reuses an earlier invocation's
-- value there, so the version would carry an old time (and segmentation_runs, the SQL
-- scoring check and the rollback of a failed build would not recognise it).
with

final as (
    select
        '{{ invocation_id }}' as run_id,
        {{ run_started_timestamp() }} as run_started_at
)

select * from final
