-- Every raw customer row, typed, with the first rule it breaks (null = kept). A table
-- rebuilt from every raw file on each build (the kept and quarantine models and the tests
-- read it instead of parsing the raw text again) that keeps personal data only as the
-- quarantine needs it: the email as hashes of its normalised form, the raw text (email,
-- names, every contract column) only on the rows staging rejects.
{%- set raw_types = raw_column_types('customers') %}
with

source as (
    select * from {{ source('shop', 'customers') }}
),

cleaned as (
    -- every text value once trimmed, with the null tokens (NULL, N/A, ...) as null
    -- (clean_string; clean_text_to_parse: only where the file gives the column as text); the
    -- raw values stay beside them for the quarantine's raw_ columns
    select
        *,
        {{ clean_string('customer_id') }} as customer_id_text,
        {{ clean_string('email') }} as email_text,
        {{ clean_string('gender') }} as gender_text,
        {{ clean_string('country', real_values=['NA']) }} as country_text,  -- NA: Namibia
        {{ clean_string('acquisition_channel') }} as acquisition_channel_text,
        {{ clean_string('birth_date') }} as birth_date_text,
        {{ clean_text_to_parse('signup_at', raw_types) }} as signup_at_text
    from source
),

parsed as (
    {%- set signup_at = parse_timestamp('signup_at', raw_types, 'signup_at_text') %}
    select
        customer_id_text as customer_id,
        lower(email_text) as email_normalized,
        {{ clean_enum('gender', 'gender_text') }} as gender_raw,
        upper(country_text) as country_code,
        {{ clean_enum('acquisition_channel', 'acquisition_channel_text') }} as acquisition_channel,
        {{ parse_date('birth_date', raw_types, 'birth_date_text') }} as birth_date,
        {{ signup_at }} as signup_at,
        {{ is_unparseable('signup_at', signup_at, raw_types, 'signup_at_text') }}
            as is_signup_at_unparseable,
        {{ raw_columns('customers', as_text=false) }}
    from cleaned
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

ranked as (
    -- duplicate keys: the first valid row of each key in each file is kept; a key sent again
    -- in a later batch file is an update, the earlier row superseded
    -- (macros/utils/duplicate_keys.sql)
    select
        flagged.*,
        {{ duplicate_key_reason('customers') }} as reject_reason,
        {{ superseded_by_file('customers') }} as superseded_by_file
    from flagged
),

final as (
    select
        customer_id,
        case when email_normalized is not null then {{ hash_key('email_normalized') }} end
            as email_hash,
        -- the same normalised email as SHA-256, for audiences handed to ad platforms
        case when email_normalized is not null then {{ sha256_hex('email_normalized') }} end
            as email_sha256,
        gender_raw,
        country_code,
        acquisition_channel,
        birth_date,
        signup_at,
        is_signup_at_unparseable,
        -- the raw text only where the quarantine shows it
        {{ raw_text_where('customers', 'reject_reason is not null') }},
        row_reject_reason,
        reject_reason,
        superseded_by_file,
        _source_file,
        _source_row
    from ranked
)

select * from final
