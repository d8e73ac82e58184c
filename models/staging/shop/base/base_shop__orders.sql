-- Every raw order row, typed, with the first rule it breaks (null = kept).
-- Incremental: a build reads only the raw files it has not applied (its ledger in
-- raw.applied_raw_files) and checks again the held rows a rule rejected (a customer may
-- have arrived, a row may be no longer from the future); the orders with a new row or a
-- changed answer are ranked again with every version they have, and their rows replace the
-- held ones (by raw row identity). Equal to a build from every file (docs/incremental.md;
-- configured in dbt_project.yml).
{%- set raw_types = raw_column_types('orders') %}
{%- set new_files_only = applies_new_files_only() %}
{#- the steps' own columns, left out of the table -#}
{%- set step_columns = ['is_new_row'] + (['held_reject_reason'] if new_files_only else []) %}
with

source as (
    select * from {{ source('shop', 'orders') }}
    {%- if new_files_only %}
        where {{ in_files('_source_file', new_raw_files('orders')) }}
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
        {{ clean_string('order_id') }} as order_id_text,
        {{ clean_string('customer_id') }} as customer_id_text,
        {{ clean_text_to_parse('ordered_at', raw_types) }} as ordered_at_text,
        {{ clean_enum('status') }} as status_enum,
        {{ clean_enum('sales_channel') }} as sales_channel_enum
    from source
),

new_rows as (
    {%- set ordered_at = parse_timestamp('ordered_at', raw_types, 'ordered_at_text') %}
    select
        order_id_text as order_id,
        customer_id_text as customer_id,
        {{ ordered_at }} as ordered_at,
        {{ is_unparseable('ordered_at', ordered_at, raw_types, 'ordered_at_text') }}
            as is_ordered_at_unparseable,
        -- var order_statuses maps the export's statuses; missing = delivered
        case status_enum
            {%- for raw, kept in var('order_statuses').items() %}
            when {{ sql_text_literal(raw) }} then {{ sql_text_literal(kept) }}  -- noqa: LT02
            {%- endfor %}
            else coalesce(status_enum, 'delivered')
        end as status,
        sales_channel_enum as sales_channel,
        {{ raw_columns('orders', as_text=new_files_only) }}
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

changed as (
    -- on an incremental build, every version of the orders that have a new row or a held
    -- row whose answer changed: the rows checked above and the held kept versions of those
    -- keys (union_kept_versions)
    select * from flagged
    {{- where_key_changed('flagged', 'order_id', new_files_only) }}
    {{- union_kept_versions('flagged', 'order_id', new_files_only) }}
),

repeated_keys as (
    -- the keys with more than one valid row: only their rows can be a duplicate or an update,
    -- so only they go through the ranking window below (a sort of the rows it reads)
    select order_id
    from changed
    where row_reject_reason is null
    group by order_id
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
                repeated_keys.order_id = changed.order_id
        )
    union all
    -- duplicate keys: the first valid row of each key in each file is kept; a key sent again
    -- in a later batch file is an update, the earlier row superseded
    -- (macros/utils/duplicate_keys.sql)
    select
        {{ all_columns_except(step_columns) }},
        {{ duplicate_key_reason('orders') }} as reject_reason,
        {{ superseded_by_file('orders') }} as superseded_by_file,
        -- the start of the build that wrote this row (tests check the latest build's rows)
        {{ run_started_timestamp() }} as _built_at
    from changed
    where exists (
            select 1 from repeated_keys
            where
                repeated_keys.order_id = changed.order_id
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
        order_id
    from changed
    where row_reject_reason is not null and order_id is not null
    union
    select
        _source_file,
        order_id
    from changed
    where
        row_reject_reason is null
        and exists (
            select 1 from repeated_keys
            where
                repeated_keys.order_id = changed.order_id
        )
    group by _source_file, order_id
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
            and decided.order_id = keys_twice_in_a_file.order_id
),

final as (
    -- the raw text only on the rows the quarantine shows or may come to show
    select
        {{ all_columns_except(raw_text_column_names('orders') + ['keeps_raw_text']) }},
        {{ raw_text_where('orders', 'keeps_raw_text') }}
    from keeps_raw_text
)

select * from final
