-- Every raw web session, typed, with the first rule it breaks (null = kept).
{%- set raw_types = raw_column_types('sessions') %}
with

source as (
    select * from {{ source('shop', 'sessions') }}
),

known_customers as (
    select customer_id from {{ ref('stg_shop__customers') }}
),

parsed as (
    select
        {{ clean_string('session_id') }} as session_id,
        {{ clean_string('customer_id') }} as customer_id,
        {{ parse_timestamp('started_at', raw_types) }} as started_at,
        {{ is_unparseable('started_at', parse_timestamp('started_at', raw_types), raw_types) }}
            as is_started_at_unparseable,
        coalesce({{ parse_integer('page_views', raw_types) }}, 0) as page_views,
        coalesce({{ parse_integer('product_views', raw_types) }}, 0) as product_views,
        coalesce({{ parse_integer('cart_adds', raw_types) }}, 0) as cart_adds,
        (
            {{ is_unparseable(
                'page_views', parse_integer('page_views', raw_types), raw_types
            ) }}
            or {{ is_unparseable(
                'product_views', parse_integer('product_views', raw_types), raw_types
            ) }}
            or {{ is_unparseable('cart_adds', parse_integer('cart_adds', raw_types), raw_types) }}
        ) as is_count_unparseable,
        {{ clean_enum('device') }} as device,
        {{ raw_columns_as_text('sessions') }}
    from source
),

flagged as (
    select
        parsed.*,
        case
            when parsed.session_id is null then 'missing_session_id'
            when parsed.is_started_at_unparseable then 'unparseable_started_at'
            when parsed.started_at is null then 'missing_started_at'
            when parsed.started_at > {{ future_cutoff() }} then 'future_started_at'
            when parsed.is_count_unparseable then 'unparseable_count'
            when least(parsed.page_views, parsed.product_views, parsed.cart_adds) < 0
                then 'negative_count'
            when parsed.customer_id is not null and known_customers.customer_id is null
                then 'unknown_customer'
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
        {{ duplicate_key_reason('sessions') }} as reject_reason,
        {{ superseded_by_file('sessions') }} as superseded_by_file
    from flagged
)

select * from final
