-- One row per kept order line with its returns.
--
-- Incremental like int_customer_daily_activity: a build with raw files this model has not
-- applied (its ledger, raw.applied_raw_files) deletes the lines of the customers those
-- files touch (int_customers_changed, pre-hook) and appends them again; every other
-- customer's lines stay as the last build left them. The first build, --full-refresh and
-- a change of the code upstream write every line (a column added to the model and its
-- contract is added to the table: on_schema_change).
-- depends_on: {{ ref('int_customers_changed') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_changed_customers(ref('int_customers_changed'), session_columns=false) }}",
    post_hook="{{ record_applied_files() }}",
) }}
{%- set changed_only = changed_customers_only(session_columns=false) %}
{{- require_parents_selected([
    'stg_shop__orders', 'stg_shop__order_items', 'stg_shop__returns', 'stg_shop__products',
    'int_customers_changed',
]) }}
with

order_lines as (
    select * from {{ ref('int_order_lines') }}
    {%- if changed_only %}
    where customer_id in (select customer_id from {{ ref('int_customers_changed') }})
    {%- endif %}
),

final as (
    select
        {{ dbt.concat(['order_id', "'-'", 'cast(line_number as varchar)']) }}
            as order_item_id,
        order_id,
        cast(line_number as integer) as line_number,
        customer_id,
        product_id,
        category,
        is_cancelled,
        has_return,
        cast(quantity as integer) as quantity,
        cast(returned_quantity as integer) as returned_quantity,
        unit_price,
        gross_amount,
        discount_amount,
        net_amount,
        refund_amount,
        net_amount_after_returns,
        ordered_at,
        ordered_date
    from order_lines
)

select * from final
