-- Every customer's metrics and features as of each month end of the trend window (the same
-- columns as int_customer_features_current), for segment_trends and segment_migration.
-- As there, only customers with a kept order by that month end (frequency > 0).
--
-- Incremental: a month end's rows change only when the customer's days do, so a build
-- whose month ends are the ones the last build recorded (its ledger) recomputes only the
-- customers of int_customers_changed: their rows are deleted (pre-hook) and their month
-- ends appended again (int_customer_metrics then sums only their days). A new month end,
-- the first build, --full-refresh and a change of the code upstream or of the vars it
-- depends on recompute every customer.
-- depends_on: {{ ref('int_customers_changed') }}
-- depends_on: {{ ref('int_snapshot_dates') }}
{{ config(
    materialized=materialized_incrementally(),
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ delete_changed_customers(
        ref('int_customers_changed'), snapshot_dates=ref('int_snapshot_dates')
    ) }}",
    post_hook="{{ record_applied_files(snapshot_dates=ref('int_snapshot_dates')) }}",
) }}
{%- set changed_only = changed_customers_only(snapshot_dates=ref('int_snapshot_dates')) %}
{#- int_customer_metrics decides at its own build which customers' month ends it sums: it
    must be built in the same invocation, and with files to apply so must the rest -#}
{{- require_parents_selected(
    ['int_customer_metrics', 'int_customer_features'], always=not changed_only
) }}
{{- require_parents_selected([
    'int_customer_daily_activity', 'int_customers_changed', 'int_snapshot_dates',
]) }}
with
{%- if changed_only %}

    changed_customers as (
        select * from {{ ref('int_customers_changed') }}
    ),
{%- endif %}

customer_features as (
    select * from {{ ref('int_customer_features') }}
    where
        snapshot_set = 'month_end'
        and frequency > 0
),

final as (
    select
        *,
        -- the start of the build that wrote this row (tests check the latest build's rows)
        {{ run_started_timestamp() }} as _built_at
    from customer_features
    {%- if changed_only %}
        where customer_id in (select customer_id from changed_customers)
    {%- endif %}
)

select * from final
