-- Rejected raw customer rows, one row each: the first rule the row breaks, every contract
-- column as the original text, and the row's place in the raw files. The base model is a
-- table (dbt_project.yml) that keeps the raw text of these rows only, so its final reason,
-- duplicate keys included, is read as is.
with

base_customers as (
    select
        reject_reason,
        raw_customer_id,
        raw_email,
        raw_first_name,
        raw_last_name,
        raw_birth_date,
        raw_gender,
        raw_country,
        raw_signup_at,
        raw_acquisition_channel,
        _source_file,
        _source_row
    from {{ ref('base_shop__customers') }}
),

rejected as (
    select * from base_customers
    where reject_reason is not null
),

final as (
    select
        'customers' as source_table,
        reject_reason,
        raw_customer_id,
        raw_email,
        raw_first_name,
        raw_last_name,
        raw_birth_date,
        raw_gender,
        raw_country,
        raw_signup_at,
        raw_acquisition_channel,
        _source_file as source_file,
        _source_row as source_row
    from rejected
)

select * from final
