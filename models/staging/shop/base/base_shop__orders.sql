-- Every raw order row, typed, with the first rule it breaks (null = kept).
{%- set raw_types = raw_column_types('orders') %}
with

source as (
    select * from {{ source('shop', 'orders') }}
),

known_customers as (
    select customer_id from {{ ref('stg_shop__customers') }}
),

parsed as (
    select
        {{ clean_string('order_id') }} as order_id,
        {{ clean_string('customer_id') }} as customer_id,
        {{ parse_timestamp('ordered_at', raw_types) }} as ordered_at,
        {{ is_unparseable('ordered_at', parse_timestamp('ordered_at', raw_types), raw_types) }}
            as is_ordered_at_unparseable,
        -- var order_statuses maps the export's statuses; missing = delivered
        case {{ clean_enum('status') }}
            {%- for raw, kept in var('order_statuses').items() %}
            when {{ sql_text_literal(raw) }} then {{ sql_text_literal(kept) }}  -- noqa: LT02
            {%- endfor %}
            else coalesce({{ clean_enum('status') }}, 'delivered')
        end as status,
        {{ clean_enum('sales_channel') }} as sales_channel,
        {{ raw_columns_as_text('orders') }}
    from source
),

flagged as (
    select
        parsed.*,
        case
            when parsed.order_id is null then 'missing_order_id'
            when parsed.customer_id is null then 'missing_customer_id'
            when parsed.is_ordered_at_unparseable then 'unparseable_ordered_at'
            when parsed.ordered_at is null then 'missing_ordered_at'
            when parsed.ordered_at > {{ future_cutoff() }} then 'future_ordered_at'
            when parsed.status not in ('placed', 'shipped', 'delivered', 'cancelled')
                then 'unknown_status'
            when known_customers.customer_id is null then 'unknown_customer'
        end as row_reject_reason
    from parsed
    left join known_customers
        on parsed.customer_id = known_customers.customer_id
),

final as (
    -- duplicate keys: the first valid row of each key in each file is kept; a key sent again
    -- in a later batch file is an update, the earlier row superseded
    -- (macros/utils/duplicate_keys.sql)
    select
        flagged.*,
        {{ duplicate_key_reason('orders') }} as reject_reason,
        {{ superseded_by_file('orders') }} as superseded_by_file
    from flagged
)

select * from final
