-- The customers whose daily activity may differ from what int_customer_daily_activity
-- holds: every customer touched by a raw file that model has not applied yet (its ledger,
-- raw.applied_raw_files). A new or re-sent order, order line, return or web session touches
-- its customer (for an order, a return or a session re-sent with another customer or
-- order, the replaced version's customer too: base models' superseded_by_file); a new
-- customer row may let orders that staging held back as orphans through; a product re-sent
-- with another category touches every customer who bought it. So does a kept row dated after
-- the last build's start, which staging quarantined then as from the future. Empty when the
-- daily activity is rebuilt from all files (first build, --full-refresh, no ledger yet).
-- depends_on: {{ source('ingest', 'applied_raw_files') }}
-- depends_on: {{ source('ingest', 'raw_files') }}
{%- set model = 'int_customer_daily_activity' %}
{%- set incremental = has_applied_files(model) %}
{%- set new_files = {} %}
{%- for table_name in var('raw_contract') %}
    {%- do new_files.update(
        {table_name: unapplied_raw_files(model, table_name) if incremental else []}
    ) %}
{%- endfor %}
{#- the daily activity reads web sessions only for a session feature #}
{%- set uses_sessions = segmentation_uses_sessions() %}
{#- rows dated after the last build's start were quarantined as from the future then (none
    before the first build) -#}
{%- set last_cutoff = run_query(
    "select max(future_cutoff) from raw.applied_raw_files where model_name = '" ~ model ~ "'"
).rows[0][0] if incremental else none %}
with

orders_dated as (
    select
        order_id,
        customer_id,
        ordered_at
    from {{ ref('stg_shop__orders') }}
),

orders as (
    select
        order_id,
        customer_id
    from orders_dated
),

new_customers as (
    select customer_id
    from {{ ref('stg_shop__customers') }}
    where {{ in_files('_source_file', new_files.customers) }}
),

new_orders as (
    -- every row of a new file, and the versions those files replaced
    select customer_id
    from {{ ref('base_shop__orders') }}
    where
        {{ in_files('_source_file', new_files.orders) }}
        or {{ in_files('superseded_by_file', new_files.orders) }}
),

new_order_lines as (
    -- a re-sent line has the key, so the order, of the line it replaces
    select orders.customer_id
    from {{ ref('stg_shop__order_items') }} as order_items
    inner join orders
        on order_items.order_id = orders.order_id
    where {{ in_files('order_items._source_file', new_files.order_items) }}
),

new_returns as (
    -- also the quarantined rows: a return over the units sold can change which of its line's
    -- returns are kept
    select orders.customer_id
    from {{ ref('base_shop__returns') }} as base_returns
    inner join orders
        on base_returns.order_id = orders.order_id
    where
        {{ in_files('base_returns._source_file', new_files.returns) }}
        or {{ in_files('base_returns.superseded_by_file', new_files.returns) }}
),

new_products as (
    select product_id
    from {{ ref('stg_shop__products') }}
    where {{ in_files('_source_file', new_files.products) }}
),

buyers_of_new_products as (
    select orders.customer_id
    from {{ ref('stg_shop__order_items') }} as order_items
    inner join new_products
        on order_items.product_id = new_products.product_id
    inner join orders
        on order_items.order_id = orders.order_id
),

{%- if uses_sessions %}

new_sessions as (
    select customer_id
    from {{ ref('base_shop__sessions') }}
    where
        {{ in_files('_source_file', new_files.sessions) }}
        or {{ in_files('superseded_by_file', new_files.sessions) }}
),
{%- endif %}

released_by_the_clock as (
    -- kept rows dated after the last build's future cutoff (their customers, and customers
    -- whose sign-up was after it: their orders were orphans then)
    {%- set cutoff = "cast('" ~ (last_cutoff or '9999-12-31') ~ "' as timestamp)" %}
    select customer_id from orders_dated
    where ordered_at > {{ cutoff }}
    union all
    select orders.customer_id
    from {{ ref('stg_shop__returns') }} as stg_returns
    inner join orders
        on stg_returns.order_id = orders.order_id
    where stg_returns.returned_at > {{ cutoff }}
    union all
    select customer_id from {{ ref('stg_shop__customers') }}
    where signup_at > {{ cutoff }}
    {%- if uses_sessions %}
    union all
    select customer_id from {{ ref('stg_shop__sessions') }}
    where started_at > {{ cutoff }}
    {%- endif %}
),

touched as (
    select customer_id from new_customers
    union all
    select customer_id from new_orders
    union all
    select customer_id from new_order_lines
    union all
    select customer_id from new_returns
    union all
    select customer_id from buyers_of_new_products
    union all
    select customer_id from released_by_the_clock
    {%- if uses_sessions %}
    union all
    select customer_id from new_sessions
    {%- endif %}
),

final as (
    select distinct customer_id
    from touched
    where customer_id is not null
)

select * from final
