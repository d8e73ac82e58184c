-- Every raw web session, typed, with the first rule it breaks (null = kept).
-- Incremental: a build reads only the raw files it has not applied (its ledger in
-- raw.applied_raw_files) and checks again the held rows a rule rejected (a customer may
-- have arrived, a row may be no longer from the future); the web sessions with a new row
-- or a changed answer are ranked again with every version they have, and their rows
-- replace the held ones (by raw row identity). Equal to a build from every file
-- (docs/incremental.md; configured in dbt_project.yml).
{%- set raw_types = raw_column_types('sessions') %}
{%- set new_files_only = applies_new_files_only() %}
{#- the steps' own columns, left out of the table -#}
{%- set step_columns = ['is_new_row'] + (['held_reject_reason'] if new_files_only else []) %}
with

source as (
    select * from {{ source('shop', 'sessions') }}
    {%- if new_files_only %}
        where {{ in_files('_source_file', new_raw_files('sessions')) }}
    {%- endif %}
),

known_customers as (
    select customer_id from {{ ref('stg_shop__customers') }}
),

cleaned as (
    -- every text value once trimmed, with the null tokens (NULL, N/A, ...) as null
    -- (clean_string; clean_text_to_parse: only where the file gives the column as text); the
    -- raw values stay beside them for the quarantine's raw_ columns
    select
        *,
        {{ clean_string('session_id') }} as session_id_text,
        {{ clean_string('customer_id') }} as customer_id_text,
        {{ clean_text_to_parse('started_at', raw_types) }} as started_at_text,
        {{ clean_text_to_parse('page_views', raw_types) }} as page_views_text,
        {{ clean_text_to_parse('product_views', raw_types) }} as product_views_text,
        {{ clean_text_to_parse('cart_adds', raw_types) }} as cart_adds_text,
        {{ clean_string('device') }} as device_text
    from source
),

new_rows as (
    {%- set started_at = parse_timestamp('started_at', raw_types, 'started_at_text') %}
    {%- set page_views = parse_integer('page_views', raw_types, 'page_views_text') %}
    {%- set product_views = parse_integer('product_views', raw_types, 'product_views_text') %}
    {%- set cart_adds = parse_integer('cart_adds', raw_types, 'cart_adds_text') %}
    select
        session_id_text as session_id,
        customer_id_text as customer_id,
        {{ started_at }} as started_at,
        {{ is_unparseable('started_at', started_at, raw_types, 'started_at_text') }}
            as is_started_at_unparseable,
        coalesce({{ page_views }}, 0) as page_views,
        coalesce({{ product_views }}, 0) as product_views,
        coalesce({{ cart_adds }}, 0) as cart_adds,
        (
            {{ is_unparseable('page_views', page_views, raw_types, 'page_views_text') }}
            or {{ is_unparseable(
                'product_views', product_views, raw_types, 'product_views_text'
            ) }}
            or {{ is_unparseable('cart_adds', cart_adds, raw_types, 'cart_adds_text') }}
        ) as is_count_unparseable,
        {{ clean_enum('device', 'device_text') }} as device,
        {{ raw_columns('sessions', as_text=new_files_only) }}
    from cleaned
),

parsed as (
    -- the new rows and, on an incremental build, the held rows a rule rejected, with their
    -- earlier answer: the rules check them again (a kept row stays kept: its customer or
    -- order stays kept, and time only moves forward)
    select
        *,
        true as is_new_row
    from new_rows
    {{- union_held_rows(new_files_only, quarantined_only=true) }}
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

changed as (
    -- on an incremental build, every version of the web sessions that have a new row or a held
    -- row whose answer changed: the rows checked above and the held kept versions of those
    -- keys (union_kept_versions)
    select * from flagged
    {{- where_key_changed('flagged', 'session_id', new_files_only) }}
    {{- union_kept_versions('flagged', 'session_id', new_files_only) }}
),

repeated_keys as (
    -- the keys with more than one valid row: only their rows can be a duplicate or an update,
    -- so only they go through the ranking window below (a sort of the rows it reads)
    select session_id
    from changed
    where row_reject_reason is null
    group by session_id
    having count(*) > 1
),

decided as (
    -- a key with one valid row: every row keeps the answer of the rules
    select
        {{ all_columns_except(step_columns) }},
        row_reject_reason as reject_reason,
        cast(null as {{ dbt.type_string() }}) as superseded_by_file,
        -- the start of the build that wrote this row (tests check the latest build's rows)
        {{ run_started_timestamp() }} as _built_at
    from changed
    where not exists (
            select 1 from repeated_keys
            where
                repeated_keys.session_id = changed.session_id
        )
    union all
    -- duplicate keys: the first valid row of each key in each file is kept; a key sent again
    -- in a later batch file is an update, the earlier row superseded
    -- (macros/utils/duplicate_keys.sql)
    select
        {{ all_columns_except(step_columns) }},
        {{ duplicate_key_reason('sessions') }} as reject_reason,
        {{ superseded_by_file('sessions') }} as superseded_by_file,
        -- the start of the build that wrote this row (tests check the latest build's rows)
        {{ run_started_timestamp() }} as _built_at
    from changed
    where exists (
            select 1 from repeated_keys
            where
                repeated_keys.session_id = changed.session_id
        )
),

keys_twice_in_a_file as (
    -- the keys a file holds more than once: those with a row a rule rejected, and those with more
    -- than one valid row in one file. The duplicate-key rule may rank the rows of such a key again
    -- (a rejected one turns valid: its customer arrives, its date is no longer in the future; a
    -- later file sends the key), so their kept row keeps the raw text that the rank or the
    -- quarantine may read (a kept row of any other key can only be superseded by a later file)
    select
        _source_file,
        session_id
    from changed
    where row_reject_reason is not null and session_id is not null
    union
    select
        _source_file,
        session_id
    from changed
    where
        row_reject_reason is null
        and exists (
            select 1 from repeated_keys
            where
                repeated_keys.session_id = changed.session_id
        )
    group by _source_file, session_id
    having count(*) > 1
),

keeps_raw_text as (
    select
        decided.*,
        decided.reject_reason is not null
        or keys_twice_in_a_file._source_file is not null as keeps_raw_text
    from decided
    left join keys_twice_in_a_file
        on
            decided._source_file = keys_twice_in_a_file._source_file
            and decided.session_id = keys_twice_in_a_file.session_id
),

final as (
    -- the raw text only on the rows the quarantine shows or may come to show
    select
        {{ all_columns_except(raw_text_column_names('sessions') + ['keeps_raw_text']) }},
        {{ raw_text_where('sessions', 'keeps_raw_text') }}
    from keeps_raw_text
)

select * from final
