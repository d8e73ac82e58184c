-- Every customer's segment as of each month end of the trend window, scored with the
-- current model in the same steps as customer_segments (same macros for the column lists),
-- with the customer's totals at that month end that segment_trends sums and the segment at
-- the customer's previous month end that segment_migration counts, so that neither joins
-- two month-end tables of every customer again.
--
-- Incremental like int_customer_features_monthly: with the same month ends and the same
-- model version as the last build (its ledger and its rows), only the customers of
-- int_customers_changed are scored again (pre-hook delete, append); a new month end, a new
-- model version (a refit), the first build, --full-refresh and a change of the code
-- upstream score every customer.
-- depends_on: {{ ref('int_customers_changed') }}
-- depends_on: {{ ref('int_snapshot_dates') }}
{{ config(
    materialized=materialized_incrementally(),
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ delete_changed_customers(
        ref('int_customers_changed'), snapshot_dates=ref('int_snapshot_dates'),
        model_version=ref('int_segment_centroids_current'), session_columns=false
    ) }}",
    post_hook="{{ record_applied_files(snapshot_dates=ref('int_snapshot_dates')) }}",
) }}
{%- set changed_only = changed_customers_only(
    snapshot_dates=ref('int_snapshot_dates'), model_version=ref('int_segment_centroids_current'),
    session_columns=false
) %}
{{- require_parents_selected(['int_customer_features_monthly', 'int_customers_changed']) }}
{#- the month-end totals segment_trends sums, carried through the scoring steps -#}
{%- set totals = [
    'first_order_at', 'units_sold', 'units_returned', 'orders_with_return', 'frequency',
    'net_sales', 'refund_amount',
] %}
with

{%- if changed_only %}

    changed_customers as (
        select * from {{ ref('int_customers_changed') }}
    ),
{%- endif %}

customer_features as (
    select * from {{ ref('int_customer_features_monthly') }}
    {%- if changed_only %}
        where
            {{ written_by_this_build('int_customer_features_monthly') }}
            and customer_id in (select customer_id from changed_customers)
    {%- endif %}
),

scoring_params as (
    select * from {{ ref('int_segment_scoring_params') }}
),

segments as (
    select distinct
        segment_id,
        segment_name,
        model_version
    from {{ ref('int_segment_centroids_current') }}
),

standardised as (
    select
        customer_features.as_of_date,
        customer_features.customer_id,
        {%- for column in totals %}
            customer_features.{{ column }},
        {%- endfor %}
        {{ standardised_feature_columns('customer_features', 'scoring_params') }}
    from customer_features
    cross join scoring_params
),

distances as (
    select
        standardised.as_of_date,
        standardised.customer_id,
        {%- for column in totals %}
            standardised.{{ column }},
        {%- endfor %}
        {{ slot_distance_columns('standardised', 'scoring_params') }}
    from standardised
    cross join scoring_params
),

nearest as (
    select
        distances.*,
        {{ smallest_slot_distance('distances') }} as distance
    from distances
),

chosen as (
    select
        nearest.as_of_date,
        nearest.customer_id,
        {%- for column in totals %}
            nearest.{{ column }},
        {%- endfor %}
        nearest.distance,
        {{ first_slot_at('nearest', 'distance') }} as slot
    from nearest
),

final as (
    select
        chosen.as_of_date,
        chosen.customer_id,
        segments.segment_id,
        segments.segment_name,
        chosen.distance,
        segments.model_version,
        {%- for column in totals %}
            chosen.{{ column }},
        {%- endfor %}
        -- the customer's previous month end in the table and the segment there (a customer
        -- has a row at every month end after their first kept order, and an incremental
        -- build scores all month ends of the customers it recomputes)
        lag(chosen.as_of_date) over customer_months as previous_as_of_date,
        lag(segments.segment_id) over customer_months as previous_segment_id,
        lag(segments.segment_name) over customer_months as previous_segment_name,
        -- the start of the build that wrote this row (tests check the latest build's rows)
        {{ run_started_timestamp() }} as _built_at
    from chosen
    cross join scoring_params
    inner join segments
        on {{ slot_segment_id('scoring_params', 'chosen.slot') }} = segments.segment_id
    window customer_months as (partition by chosen.customer_id order by chosen.as_of_date)
)

select * from final
