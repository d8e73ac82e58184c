-- Every raw customer row, typed, with the first rule it breaks (null = kept).
{%- set raw_types = raw_column_types('customers') %}
with

source as (
    select * from {{ source('shop', 'customers') }}
),

parsed as (
    select
        {{ clean_string('customer_id') }} as customer_id,
        lower({{ clean_string('email') }}) as email_normalized,
        {{ clean_enum('gender') }} as gender_raw,
        upper({{ clean_string('country', real_values=['NA']) }}) as country_code,  -- NA: Namibia
        {{ clean_enum('acquisition_channel') }} as acquisition_channel,
        {{ parse_date('birth_date', raw_types) }} as birth_date,
        {{ parse_timestamp('signup_at', raw_types) }} as signup_at,
        {{ is_unparseable('signup_at', parse_timestamp('signup_at', raw_types), raw_types) }}
            as is_signup_at_unparseable,
        {{ raw_columns_as_text('customers') }}
    from source
),

flagged as (
    select
        *,
        case
            when customer_id is null then 'missing_customer_id'
            when signup_at > {{ future_cutoff() }} then 'future_signup_at'
        end as row_reject_reason
    from parsed
),

final as (
    -- duplicate keys: the first valid row of each key in each file is kept; a key sent again
    -- in a later batch file is an update, the earlier row superseded
    -- (macros/utils/duplicate_keys.sql)
    select
        flagged.*,
        {{ duplicate_key_reason('customers') }} as reject_reason,
        {{ superseded_by_file('customers') }} as superseded_by_file
    from flagged
)

select * from final
