-- Every raw customer row, typed, with the first rule it breaks (null = kept). A table that
-- keeps personal data only as the quarantine needs it: the email as hashes of its normalised
-- form, the raw text (email, names, every contract column) only on the rows staging rejects
-- and on the kept row of a customer whose file holds a rejected row of them too.
-- Incremental: a build reads only the raw files it has not applied (its ledger in
-- raw.applied_raw_files) and checks again the held rows a rule rejected (a sign-up may be no
-- longer in the future); the customers with a new row or a changed answer are ranked again
-- with every version they have, and their rows replace the held ones (by raw row identity).
-- The rank within a file reads each row's place among its file's rows of the customer
-- (_file_key_position, set when the file is read, in the duplicate-key rule's order), so a
-- kept row needs no raw text to be ranked again. Equal to a build from every file
-- (docs/incremental.md; configured in dbt_project.yml).
{%- set raw_types = raw_column_types('customers') %}
{%- set new_files_only = applies_new_files_only() %}
{%- set raw_text_columns = raw_text_column_names('customers') %}
{#- the steps' own columns, left out of the table -#}
{%- set step_columns = ['is_new_row'] + (['held_reject_reason'] if new_files_only else []) %}
with

source as (
    select * from {{ source('shop', 'customers') }}
    {%- if new_files_only %}
        where {{ in_files('_source_file', new_raw_files('customers')) }}
    {%- endif %}
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

new_rows as (
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

positioned as (
    -- the email as hashes, and each row's place among its file's rows of the same customer in
    -- the duplicate-key rule's order (macros/utils/duplicate_keys.sql), which the rank below
    -- reads; on an incremental build the raw values as text, like the held rows'
    select
        {{ all_columns_except(
            ['email_normalized'] + (raw_text_columns if new_files_only else [])
        ) }},
        {%- if new_files_only %}
            {%- for name in raw_text_columns %}
                cast({{ name }} as {{ dbt.type_string() }}) as {{ name }},
            {%- endfor %}
        {%- endif %}
        case when email_normalized is not null then {{ hash_key('email_normalized') }} end
            as email_hash,
        -- the same normalised email as SHA-256, for audiences handed to ad platforms
        case when email_normalized is not null then {{ sha256_hex('email_normalized') }} end
            as email_sha256,
        row_number() over (
            partition by _source_file, customer_id
            order by
                {{ duplicate_key_rules()['customers'].position_order_by
                    | join(',\n                ') }},
                _source_row
        ) as _file_key_position
    from new_rows
),

parsed as (
    -- the new rows and, on an incremental build, the held rows a rule rejected, with their
    -- earlier answer: the rules check them again (a kept row stays kept: time only moves
    -- forward)
    select
        *,
        true as is_new_row
    from positioned
    {{- union_held_rows(new_files_only, quarantined_only=true) }}
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

changed as (
    -- on an incremental build, every version of the customers that have a new row or a held
    -- row whose answer changed: the rows checked above and the held kept versions of those
    -- keys (union_kept_versions)
    select * from flagged
    {{- where_key_changed('flagged', 'customer_id', new_files_only) }}
    {{- union_kept_versions('flagged', 'customer_id', new_files_only) }}
),

repeated_keys as (
    -- the keys with more than one valid row: only their rows can be a duplicate or an update,
    -- so only they go through the ranking window below (a sort of the rows it reads)
    select customer_id
    from changed
    where row_reject_reason is null
    group by customer_id
    having count(*) > 1
),

decided as (
    -- a key with one valid row: every row keeps the answer of the rules
    select
        {{ all_columns_except(step_columns) }},
        row_reject_reason as reject_reason,
        cast(null as {{ dbt.type_string() }}) as superseded_by_file
    from changed
    where not exists (
            select 1 from repeated_keys
            where
                repeated_keys.customer_id = changed.customer_id
        )
    union all
    -- duplicate keys: the first valid row of each key in each file is kept; a key sent again
    -- in a later batch file is an update, the earlier row superseded
    -- (macros/utils/duplicate_keys.sql)
    select
        {{ all_columns_except(step_columns) }},
        {{ duplicate_key_reason('customers') }} as reject_reason,
        {{ superseded_by_file('customers') }} as superseded_by_file
    from changed
    where exists (
            select 1 from repeated_keys
            where
                repeated_keys.customer_id = changed.customer_id
        )
),

keys_rejected_in_a_file as (
    -- the customers a file holds a rejected row of: that row may turn valid (its sign-up is no
    -- longer in the future) and come first in its file, so the file's kept row of the
    -- customer keeps the raw text that the quarantine would then show
    select distinct
        _source_file,
        customer_id
    from changed
    where row_reject_reason is not null and customer_id is not null
),

final as (
    select
        decided.customer_id,
        decided.email_hash,
        decided.email_sha256,
        decided.gender_raw,
        decided.country_code,
        decided.acquisition_channel,
        decided.birth_date,
        decided.signup_at,
        decided.is_signup_at_unparseable,
        -- the raw text only where the quarantine shows it or may come to show it
        {{ raw_text_where(
            'customers',
            'decided.reject_reason is not null '
            ~ 'or keys_rejected_in_a_file._source_file is not null'
        ) | indent(4) }},
        decided.row_reject_reason,
        decided.reject_reason,
        decided.superseded_by_file,
        decided._source_file,
        decided._source_row,
        decided._file_key_position,
        -- the start of the build that wrote this row (tests check the latest build's rows)
        {{ run_started_timestamp() }} as _built_at
    from decided
    left join keys_rejected_in_a_file
        on
            decided._source_file = keys_rejected_in_a_file._source_file
            and decided.customer_id = keys_rejected_in_a_file.customer_id
)

select * from final
