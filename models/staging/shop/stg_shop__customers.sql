-- Kept customers: one row per customer_id. Personal data ends here: the email is only kept
-- as hashes (MD5 and SHA-256 of its normalised form, taken in base_shop__customers) and
-- names are dropped. The birth date stays for dim_customers, which turns it into an age
-- band at the analysis date; no later model keeps it.
with

checked as (
    select * from {{ ref('base_shop__customers') }}
    where reject_reason is null and superseded_by_file is null
),

final as (
    select
        customer_id,
        email_hash,
        email_sha256,
        case
            when gender_raw in ('f', 'female', 'woman', 'w') then 'female'
            when gender_raw in ('m', 'male', 'man') then 'male'
            when gender_raw is not null then 'other'
        end as gender,
        country_code,
        acquisition_channel,
        birth_date,
        case
            when is_signup_at_unparseable then null else signup_at
        end as signup_at,
        is_signup_at_unparseable,
        -- the raw file this version of the row came from
        _source_file
    from checked
)

select * from final
