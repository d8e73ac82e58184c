-- Every raw return row, typed, with the first rule it breaks (null = kept).
-- Incremental: a build reads only the raw files it has not applied (its ledger in
-- raw.applied_raw_files) and checks again the held rows whose order or lines the base models
-- rewrote in this build (an order or line that arrived or changed) or that were from the
-- future; the returns of the orders with a new row or a changed answer, and of every order a
-- version of one of those returns is on, are ranked again, and their rows replace the held
-- ones (by raw row identity). Equal to a build from every file (docs/incremental.md;
-- configured in dbt_project.yml).
-- depends_on: {{ ref('base_shop__orders') }}
-- depends_on: {{ ref('base_shop__order_items') }}
{%- set raw_types = raw_column_types('returns') %}
{%- set new_files_only = applies_new_files_only() %}
{#- the order line's columns, joined to every row again -#}
{%- set line_columns = ['sold_quantity', 'line_net_amount'] %}
{#- the steps' own columns, left out of the table -#}
{%- set step_columns = ['is_new_row', 'is_rechecked'] + (
    ['held_reject_reason', 'held_sold_quantity', 'held_line_net_amount']
    if new_files_only else []
) %}
with{{ ' recursive' if new_files_only }}

source as (
    select * from {{ source('shop', 'returns') }}
    {%- if new_files_only %}
        where {{ in_files('_source_file', new_raw_files('returns')) }}
    {%- endif %}
),

cleaned as (
    -- every text value once trimmed, with the null tokens (NULL, N/A, ...) as null
    -- (clean_string; clean_text_to_parse: only where the file gives the column as text); the
    -- raw values stay beside them for the quarantine's raw_ columns
    select
        *,
        {{ clean_string('return_id') }} as return_id_text,
        {{ clean_string('order_id') }} as order_id_text,
        {{ clean_text_to_parse('line_number', raw_types) }} as line_number_text,
        {{ clean_text_to_parse('quantity', raw_types) }} as quantity_text,
        {{ clean_text_to_parse('returned_at', raw_types) }} as returned_at_text,
        {{ clean_string('reason') }} as reason_text,
        {{ clean_text_to_parse('refund_amount', raw_types) }} as refund_amount_text
    from source
),

new_rows as (
    {%- set line_number = parse_integer('line_number', raw_types, 'line_number_text') %}
    {%- set quantity = parse_integer('quantity', raw_types, 'quantity_text') %}
    {%- set returned_at = parse_timestamp('returned_at', raw_types, 'returned_at_text') %}
    {%- set refund_amount = parse_money('refund_amount', raw_types, 'refund_amount_text') %}
    select
        return_id_text as return_id,
        order_id_text as order_id,
        {{ line_number }} as line_number,
        {{ quantity }} as quantity,
        {{ returned_at }} as returned_at,
        {{ clean_enum('reason', 'reason_text') }} as reason,
        {{ refund_amount }} as refund_amount_reported,
        {{ is_unparseable('line_number', line_number, raw_types, 'line_number_text') }}
            as is_line_number_unparseable,
        {{ is_unparseable('quantity', quantity, raw_types, 'quantity_text') }}
            as is_quantity_unparseable,
        {{ is_unparseable('returned_at', returned_at, raw_types, 'returned_at_text') }}
            as is_returned_at_unparseable,
        {{ is_unparseable('refund_amount', refund_amount, raw_types, 'refund_amount_text') }}
            as is_refund_unparseable,
        {{ raw_columns('returns', as_text=true) }}
    from cleaned
),

parsed as {{ not_materialized(new_files_only) }} (
    -- the new rows and, on an incremental build, the held ones with their earlier answer and
    -- order line (there this step and `flagged` are read twice: macro not_materialized)
    select
        *,
        true as is_new_row
    from new_rows
    {{- union_held_rows(new_files_only, line_columns) }}
),

{%- if new_files_only %}

    touched_orders as (
    -- on an incremental build, the orders whose kept order or lines may differ from what
    -- this model last checked: those of the order and line rows the base models wrote after
    -- its last build started (last_build_started; they write every version of a key with a
    -- new row or a changed answer). A build with nothing new touches none.
        {%- set since = last_build_started() %}
        select written_orders.order_id
        from {{ ref('base_shop__orders') }} as written_orders
        where written_orders._built_at > {{ since }}
        union
        select written_lines.order_id
        from {{ ref('base_shop__order_items') }} as written_lines
        where written_lines._built_at > {{ since }}
    ),
{%- endif %}

candidates as {{ not_materialized(new_files_only) }} (
    -- is_rechecked: the rows the rules check (again). Every row on a build from all files; on
    -- an incremental one the new rows, the held rows of the touched orders and the held
    -- rows quarantined as from the future (the one rule that changes with time): every
    -- other held row's order and line are what they were, so its answer is too
    select
        *,
        {%- if new_files_only %}
            coalesce(
                is_new_row
                or order_id in (
                    select touched_orders.order_id from touched_orders
                    where touched_orders.order_id is not null
                )
                or held_reject_reason = 'future_returned_at',
                false
            ) as is_rechecked
        {%- else %}
            true as is_rechecked
        {%- endif %}
    from parsed
),

returned_lines as {{ materialized_step() }} (
    -- only the staged lines that a checked return points at: the validation join then works
    -- on about as many lines as there are returns, not on every line sold (kept as a step:
    -- otherwise DuckDB may join every line to its order before this filter)
    select order_items.*
    from {{ ref('stg_shop__order_items') }} as order_items
    semi join candidates
        on
            order_items.order_id = candidates.order_id
            and candidates.is_rechecked
),

order_lines as (
    select
        returned_lines.order_id,
        returned_lines.line_number,
        returned_lines.quantity as sold_quantity,
        returned_lines.net_amount,
        orders.ordered_at,
        orders.is_cancelled
    from returned_lines
    inner join {{ ref('stg_shop__orders') }} as orders
        on returned_lines.order_id = orders.order_id
),

flagged as {{ not_materialized(new_files_only) }} (
    select
        candidates.*,
        order_lines.sold_quantity,
        order_lines.net_amount as line_net_amount,
        case
            when candidates.return_id is null then 'missing_return_id'
            when candidates.order_id is null then 'missing_order_id'
            when candidates.is_line_number_unparseable then 'unparseable_line_number'
            when candidates.line_number is null then 'missing_line_number'
            when candidates.is_quantity_unparseable then 'unparseable_quantity'
            when candidates.quantity is null then 'missing_quantity'
            when candidates.quantity <= 0 then 'non_positive_quantity'
            when candidates.is_returned_at_unparseable then 'unparseable_returned_at'
            when candidates.returned_at is null then 'missing_returned_at'
            when candidates.returned_at > {{ future_cutoff() }} then 'future_returned_at'
            when candidates.is_refund_unparseable then 'unparseable_refund_amount'
            when candidates.refund_amount_reported < 0 then 'negative_refund_amount'
            when order_lines.order_id is null then 'unknown_order_line'
            when order_lines.is_cancelled then 'return_of_cancelled_order'
            when candidates.returned_at < order_lines.ordered_at then 'returned_before_order'
            when candidates.quantity > order_lines.sold_quantity
                then 'return_exceeds_sold_quantity'
        end as row_reject_reason
    from candidates
    left join order_lines
        on
            candidates.order_id = order_lines.order_id
            and candidates.line_number = order_lines.line_number
    where candidates.is_rechecked
    {%- if new_files_only %}
        union all by name
        select
            *,
            held_sold_quantity as sold_quantity,
            held_line_net_amount as line_net_amount,
            held_reject_reason as row_reject_reason
        from candidates
        where not is_rechecked
    {%- endif %}
),

{%- if new_files_only %}

    changed_orders (order_id) as (
    -- on an incremental build, the orders whose returns are ranked again: those with a new
    -- row or a held row whose answer or order line changed, and every order that a version
    -- of one of their returns is on, repeated until no new order comes (a return's rank
    -- reads its versions, the cumulative rule the other returns of its line)
        select order_id from flagged
        where
            is_new_row
            or row_reject_reason is distinct from held_reject_reason
            or sold_quantity is distinct from held_sold_quantity
            or line_net_amount is distinct from held_line_net_amount
        {{ recursive_union() }}
        select versions.order_id
        from changed_orders
        inner join parsed as on_order
            on changed_orders.order_id = on_order.order_id
        inner join parsed as versions
            on on_order.return_id = versions.return_id
    ),
{%- endif %}

changed as (
    select * from flagged
    {%- if new_files_only %}
        where is_new_row or order_id in (select changed_orders.order_id from changed_orders)
    {%- endif %}
),

repeated_returns as (
    -- the return ids with more than one valid row: only their rows can be a duplicate or an
    -- update
    select return_id
    from changed
    where row_reject_reason is null
    group by return_id
    having count(*) > 1
),

repeated_lines as (
    -- the order lines with more than one valid return: only their returns can add up to more
    -- than was sold (the rules check one return against its line)
    select
        order_id,
        line_number
    from changed
    where row_reject_reason is null
    group by order_id, line_number
    having count(*) > 1
),

checked as (
    -- the rows of those returns and lines go through the windows below (sorts of the rows
    -- they read); every other row keeps the answer of the rules
    select
        *,
        exists (
            select 1 from repeated_returns
            where repeated_returns.return_id = changed.return_id
        )
        or exists (
            select 1 from repeated_lines
            where
                repeated_lines.order_id = changed.order_id
                and repeated_lines.line_number = changed.line_number
        ) as is_ranked
    from changed
),

ranked as (
    select {{ all_columns_except(['is_ranked'] + step_columns) }} from checked
    where is_ranked
),

deduplicated as (
    -- duplicate keys: the first valid row of each key in each file is kept; a return sent
    -- again in a later batch file is an update, the earlier row superseded
    -- (macros/utils/duplicate_keys.sql)
    select
        ranked.*,
        {{ duplicate_key_reason('returns') }} as reject_reason_before_cumulative,
        {{ superseded_by_file('returns') }} as superseded_by_file
    from ranked
),

with_cumulative_quantity as (
    -- Several returns of one line may not add up to more than was sold: the earliest
    -- returns are kept, the ones that push the total past the sold quantity are rejected.
    select
        *,
        sum(
            case
                when reject_reason_before_cumulative is null and superseded_by_file is null
                    then quantity
                else 0
            end
        ) over (
            partition by order_id, line_number
            order by returned_at, return_id
            rows between unbounded preceding and current row
        ) as cumulative_returned_quantity
    from deduplicated
),

final as (
    select
        {{ all_columns_except(['is_ranked'] + step_columns) }},
        row_reject_reason as reject_reason,
        cast(null as {{ dbt.type_string() }}) as superseded_by_file,
        -- the start of the build that wrote this row (tests check the latest build's rows)
        {{ run_started_timestamp() }} as _built_at
    from checked
    where not is_ranked
    union all
    select
        {{ all_columns_except([
            'reject_reason_before_cumulative', 'superseded_by_file',
            'cumulative_returned_quantity',
        ]) }},
        coalesce(
            reject_reason_before_cumulative,
            case
                when
                    superseded_by_file is null
                    and cumulative_returned_quantity > sold_quantity
                    then 'return_exceeds_sold_quantity'
            end
        ) as reject_reason,
        superseded_by_file,
        -- the start of the build that wrote this row (tests check the latest build's rows)
        {{ run_started_timestamp() }} as _built_at
    from with_cumulative_quantity
)

select * from final
