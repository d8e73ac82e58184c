-- Every customer's totals as of the analysis date: the sums of their days before it
-- (int_customer_daily_activity), the `current` snapshot that int_customer_metrics reads.
--
-- Incremental: a customer's totals change only when their days do (int_customers_changed)
-- or when the analysis date moves over one of their days (a return or web session dated
-- after the last order, counted once the date passes it), so a build recomputes only those
-- customers (customers_summed_again): their rows are deleted (pre-hook) and summed again,
-- every other row stays. The analysis date of the last build is in the model's ledger. The
-- first build, --full-refresh and a change of the code upstream or of the vars it depends
-- on sum every customer.
-- depends_on: {{ ref('int_customers_changed') }}
{{ config(
    materialized=materialized_incrementally(),
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ delete_customers(customers_summed_again(
        ref('int_customers_changed'), ref('int_customer_daily_activity'),
        ref('int_snapshot_dates')
    )) }}",
    post_hook="{{ record_applied_files(
        snapshot_dates=ref('int_snapshot_dates'), snapshot_set='current'
    ) }}",
) }}
{%- set summed_again = customers_summed_again(
    ref('int_customers_changed'), ref('int_customer_daily_activity'), ref('int_snapshot_dates')
) %}
{{- require_parents_selected([
    'int_customer_daily_activity', 'int_customers_changed', 'int_snapshot_dates',
]) }}
with

daily_activity as (
    select * from {{ ref('int_customer_daily_activity') }}
),

snapshot_dates as (
    select * from {{ ref('int_snapshot_dates') }}
),

analysis_date as (
    select as_of_date from snapshot_dates
    where snapshot_set = 'current'
),

final as (
    select
        daily_activity.customer_id,
        {{- daily_activity_totals('daily_activity') | indent(4) }},
        -- the start of the build that wrote this row (tests check the latest build's rows)
        {{ run_started_timestamp() }} as _built_at
    from daily_activity
    {%- if summed_again %}
        where
            daily_activity.activity_date < (select analysis_date.as_of_date from analysis_date)
            and daily_activity.customer_id in ({{ summed_again }})
    {%- else %}
        where daily_activity.activity_date < (select analysis_date.as_of_date from analysis_date)
    {%- endif %}
    group by daily_activity.customer_id
)

select * from final
