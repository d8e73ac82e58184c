-- The customers whose rows in an incremental customer model (int_customer_daily_activity,
-- the month-end snapshots, the order and return facts: every incremental model that reads
-- this one, each with its own ledger in raw.applied_raw_files) may differ from what the model
-- holds: every customer that a raw file one of them has not applied yet can touch, whether
-- its rows are kept or quarantined:
-- - the customer a new customer, order or session row names, and the customer of the order
--   that a new order line or return names;
-- - for a key sent before, whatever every other version of it touches (the version a new
--   row replaces, or the earlier one that wins again when the new row is quarantined): the
--   customer of every version of a touched order, every order a touched return was ever on;
-- - the orders and sessions (every version) that name an arrived customer: they were
--   orphans, and one may now win over a version kept for another customer;
-- - the returns of a touched order, whose kept set may change with it, and so every order
--   they were ever on, repeated until no new order comes;
-- - every order with a line of a product in a new file (a category counts in category
--   breadth; a product that arrives lets lines through), with the same versions;
-- - rows that staging quarantined as from the future in the earliest of their last builds
--   and keeps now (dated after that build's start), with the same versions.
-- A file that one model applied and another did not (a build that failed part-way) counts
-- as new for all of them: recomputing a customer again gives the same rows. Web sessions
-- count only with a session feature. Empty when every model is rebuilt from all files
-- (first build, --full-refresh, no ledger yet). Reads base_shop__row_keys (ids only, no
-- rules): a build reads the new files and the versions of their keys, not every rule of
-- every raw row.
-- depends_on: {{ source('ingest', 'applied_raw_files') }}
-- depends_on: {{ source('ingest', 'raw_files') }}
{%- set models = [] %}
{%- for name in ledger_models() if has_applied_files(name) %}
    {%- do models.append(name) %}
{%- endfor %}
{%- set incremental = models | length > 0 %}
{#- the daily activity reads web sessions only for a session feature #}
{%- set uses_sessions = segmentation_uses_sessions() %}
{#- the files one of the models has not applied, and the condition for a row of one -#}
{%- set new_files = {} %}
{%- set in_new_files = [] %}
{%- for table_name in var('raw_contract') %}
    {%- do new_files.update(
        {table_name: unapplied_raw_files(models, table_name) if incremental else []}
    ) %}
    {%- if table_name != 'sessions' or uses_sessions %}
        {%- do in_new_files.append(
            "(table_name = '" ~ table_name ~ "' and "
            ~ in_files('_source_file', new_files[table_name]) ~ ")"
        ) %}
    {%- endif %}
{%- endfor %}
{#- rows dated after the earliest last build's start were quarantined as from the future
    then (none before the first build) -#}
{%- set last_cutoff = run_query(
    "select min(cutoff) from (select max(future_cutoff) as cutoff from "
    ~ source('ingest', 'applied_raw_files') ~ " where model_name in ('"
    ~ models | join("', '") ~ "') group by model_name) as cutoffs"
).rows[0][0] if incremental else none %}
{%- set cutoff = "cast('" ~ (last_cutoff or '9999-12-31') ~ "' as timestamp)" %}
with recursive

row_keys as {{ not_materialized(incremental) }} (
    -- read in place by each step (one table's keys each) rather than copied whole
    select * from {{ ref('base_shop__row_keys') }}
),

return_keys as {{ materialized_step() }} (
    -- every version of every return: the return and the order it is on
    select
        key_id as return_id,
        order_id
    from row_keys
    where table_name = 'returns'
),

new_rows as (
    -- every row of a new file, kept or quarantined
    select * from row_keys
    where {{ in_new_files | join(' or ') }}
),

arrived_customers as (
    -- customers in a new file, and kept customers who signed up after the last build's
    -- future cutoff (quarantined then as from the future; none before the first build):
    -- rows that name them were orphans before
    select customer_id from new_rows
    where table_name = 'customers'
    union all
    select customer_id from {{ ref('stg_shop__customers') }}
    where signup_at > {{ cutoff }}
),

released_orders as (
    -- kept orders dated after the last build's future cutoff (quarantined then as from
    -- the future)
    select order_id from {{ ref('stg_shop__orders') }}
    where ordered_at > {{ cutoff }}
),

orders_of_new_products as (
    -- a product re-sent with another category changes its buyers' category breadth, and a
    -- product that arrives lets lines through that staging held back
    select order_items.order_id
    from {{ ref('stg_shop__order_items') }} as order_items
    semi join new_rows
        on
            new_rows.table_name = 'products'
            and order_items.product_id = new_rows.key_id
),

released_returns as (
    select order_id from {{ ref('stg_shop__returns') }}
    where returned_at > {{ cutoff }}
),

seed_orders as (
    -- orders named by a new order, order line or return (the versions of a new return are
    -- found through its new order), orders (any version) that name an arrived customer,
    -- orders with a line of a new product, and orders and returns released by the clock
    select order_id from new_rows
    union all
    select order_id from orders_of_new_products
    union all
    select key_id from row_keys
    where
        table_name = 'orders'
        and customer_id in (select customer_id from arrived_customers)
    union all
    select order_id from released_orders
    union all
    select order_id from released_returns
),

touched_orders (order_id) as (
    -- the seed orders, and every order that a return of a touched order was ever on (in
    -- any version), until no new order comes: which of a line's returns are kept depends on
    -- the order and on each other, and a return let through or held back on one order can
    -- be a version of a return kept on another
    select order_id from seed_orders
    {{ recursive_union() }}
    select other_versions.order_id
    from touched_orders
    inner join return_keys as on_order
        on touched_orders.order_id = on_order.order_id
    inner join return_keys as other_versions
        on on_order.return_id = other_versions.return_id
),

customers_of_touched_orders as (
    -- the customer of every version of those orders: a re-sent order touches the customer
    -- it replaces as well as its new one
    select customer_id
    from row_keys
    where
        table_name = 'orders'
        and key_id in (select order_id from touched_orders)
),
{%- if uses_sessions %}

seed_sessions as (
    select key_id as session_id from new_rows
    where table_name = 'sessions'
    union all
    select key_id from row_keys
    where
        table_name = 'sessions'
        and customer_id in (select customer_id from arrived_customers)
    union all
    select session_id from {{ ref('stg_shop__sessions') }}
    where started_at > {{ cutoff }}
),

customers_of_touched_sessions as (
    -- the customer of every version of those sessions
    select customer_id
    from row_keys
    where
        table_name = 'sessions'
        and key_id in (select session_id from seed_sessions)
),
{%- endif %}

touched as (
    select customer_id from arrived_customers
    union all
    select customer_id from customers_of_touched_orders
    {%- if uses_sessions %}
    union all
    select customer_id from customers_of_touched_sessions
    {%- endif %}
),

final as (
    -- no read at all when the daily activity computes every customer
    select distinct customer_id
    from touched
    where customer_id is not null and {{ 'true' if incremental else 'false' }}
)

select * from final
