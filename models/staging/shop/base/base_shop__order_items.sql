-- Every raw order line, typed, with the first rule it breaks (null = kept).
-- A line worth more than var max_line_value (quantity x unit price, default 1,000,000) is an
-- entry error (price in cents, a stray digit), not a customer: quarantined as
-- outlier_line_value so one typo cannot dominate monetary and the segmentation.
-- Incremental: a build reads only the raw files it has not applied (its ledger in
-- raw.applied_raw_files) and checks again the held rows a rule rejected (an order may have
-- arrived); the orders with a new line or a line whose answer changed are ranked again with
-- every version of their lines, and those rows replace the held ones (by raw row identity).
-- Equal to a build from every file (docs/incremental.md; configured in dbt_project.yml).
{%- set raw_types = raw_column_types('order_items') %}
{%- set new_files_only = applies_new_files_only() %}
{#- the steps' own columns, left out of the table -#}
{%- set step_columns = ['is_new_row'] + (['held_reject_reason'] if new_files_only else []) %}
with

source as (
    select * from {{ source('shop', 'order_items') }}
    {%- if new_files_only %}
        where {{ in_files('_source_file', new_raw_files('order_items')) }}
    {%- endif %}
),

known_orders as (
    select order_id from {{ ref('stg_shop__orders') }}
),

cleaned as (
    -- every text value once trimmed, with the null tokens (NULL, N/A, ...) as null
    -- (clean_string; clean_text_to_parse: only where the file gives the column as text); the
    -- raw values stay beside them for the quarantine's raw_ columns
    select
        *,
        {{ clean_string('order_id') }} as order_id_text,
        {{ clean_text_to_parse('line_number', raw_types) }} as line_number_text,
        {{ clean_string('product_id') }} as product_id_text,
        {{ clean_text_to_parse('quantity', raw_types) }} as quantity_text,
        {{ clean_text_to_parse('unit_price', raw_types) }} as unit_price_text,
        {{ clean_text_to_parse('discount_amount', raw_types) }} as discount_amount_text
    from source
),

new_rows as (
    {%- set line_number = parse_integer('line_number', raw_types, 'line_number_text') %}
    {%- set quantity = parse_integer('quantity', raw_types, 'quantity_text') %}
    {%- set unit_price = parse_money('unit_price', raw_types, 'unit_price_text') %}
    {%- set discount = parse_money('discount_amount', raw_types, 'discount_amount_text') %}
    select
        order_id_text as order_id,
        {{ line_number }} as line_number,
        product_id_text as product_id,
        {{ quantity }} as quantity,
        {{ unit_price }} as unit_price,
        coalesce({{ discount }}, 0) as discount_amount,
        {{ is_unparseable('line_number', line_number, raw_types, 'line_number_text') }}
            as is_line_number_unparseable,
        {{ is_unparseable('quantity', quantity, raw_types, 'quantity_text') }}
            as is_quantity_unparseable,
        {{ is_unparseable('unit_price', unit_price, raw_types, 'unit_price_text') }}
            as is_unit_price_unparseable,
        {{ is_unparseable('discount_amount', discount, raw_types, 'discount_amount_text') }}
            as is_discount_unparseable,
        {{ raw_columns('order_items', as_text=new_files_only) }}
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
            when parsed.is_line_number_unparseable then 'unparseable_line_number'
            when parsed.line_number is null then 'missing_line_number'
            when parsed.is_quantity_unparseable then 'unparseable_quantity'
            when parsed.quantity is null then 'missing_quantity'
            when parsed.quantity <= 0 then 'non_positive_quantity'
            when parsed.is_unit_price_unparseable then 'unparseable_unit_price'
            when parsed.unit_price is null then 'missing_unit_price'
            when parsed.unit_price < 0 then 'negative_unit_price'
            when parsed.is_discount_unparseable then 'unparseable_discount_amount'
            when parsed.discount_amount < 0 then 'negative_discount_amount'
            when parsed.discount_amount > parsed.quantity * parsed.unit_price
                then 'discount_exceeds_line_value'
            when parsed.quantity * parsed.unit_price > {{ var('max_line_value', 1000000) }}
                then 'outlier_line_value'
            when known_orders.order_id is null then 'unknown_order'
        end as row_reject_reason
    from parsed
    left join known_orders
        on parsed.order_id = known_orders.order_id
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
    select
        order_id,
        line_number
    from changed
    where row_reject_reason is null
    group by order_id, line_number
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
                and repeated_keys.line_number = changed.line_number
        )
    union all
    -- duplicate keys: the first valid row of each key in each file is kept; a key sent again
    -- in a later batch file is an update, the earlier row superseded
    -- (macros/utils/duplicate_keys.sql)
    select
        {{ all_columns_except(step_columns) }},
        {{ duplicate_key_reason('order_items') }} as reject_reason,
        {{ superseded_by_file('order_items') }} as superseded_by_file,
        -- the start of the build that wrote this row (tests check the latest build's rows)
        {{ run_started_timestamp() }} as _built_at
    from changed
    where exists (
            select 1 from repeated_keys
            where
                repeated_keys.order_id = changed.order_id
                and repeated_keys.line_number = changed.line_number
        )
),

keys_twice_in_a_file as (
    -- the keys a file holds more than once: those with a row a rule rejected, and those with more
    -- than one valid row in one file. The duplicate-key rule may rank the rows of such a key again
    -- (a rejected one turns valid: its order arrives; a later file sends the key), so their kept
    -- row keeps the raw text that the rank or the quarantine may read (a kept row of any other key
    -- can only be superseded by a later file)
    select
        _source_file,
        order_id,
        line_number
    from changed
    where row_reject_reason is not null and order_id is not null and line_number is not null
    union
    select
        _source_file,
        order_id,
        line_number
    from changed
    where
        row_reject_reason is null
        and exists (
            select 1 from repeated_keys
            where
                repeated_keys.order_id = changed.order_id
                and repeated_keys.line_number = changed.line_number
        )
    group by _source_file, order_id, line_number
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
            and decided.line_number = keys_twice_in_a_file.line_number
),

final as (
    -- the raw text only on the rows the quarantine shows or may come to show
    select
        {{ all_columns_except(raw_text_column_names('order_items') + ['keeps_raw_text']) }},
        {{ raw_text_where('order_items', 'keeps_raw_text') }}
    from keeps_raw_text
)

select * from final
