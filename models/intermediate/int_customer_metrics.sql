-- Customer metrics as of every snapshot date (int_snapshot_dates): one row per snapshot
-- set, date and customer with a kept order before that date. The `current` set (the
-- analysis date) reads the customers' totals from int_customer_totals_current, which sums
-- every day before it (and, incrementally, only the customers whose totals changed). For
-- the `month_end` set each day of the daily activity goes to the first month end it counts
-- in (its bucket), the days are summed per customer and bucket, a running sum over a
-- customer's buckets gives the totals as of each bucket, and each month end takes the
-- customer's latest bucket on or before it. Cost grows with active days + customers x
-- snapshots (the rows written).
--
-- A view: int_customers_with_orders_current selects the `current` set (on the path to the
-- segments) and int_customer_features_monthly the `month_end` set; the filter on
-- snapshot_set reaches each part, so each build computes each set once and the path to the
-- segments never waits for the monthly snapshots.
--
-- When int_customer_features_monthly is built incrementally (it keeps every other
-- customer's month ends), the `month_end` set holds only the customers it recomputes
-- (int_customers_changed): the filter sits on the buckets, before the running sums, so such
-- a build reads only their days. The `current` set always holds every customer.
-- depends_on: {{ ref('int_customers_changed') }}
{%- set uses_sessions = segmentation_uses_sessions() %}
{%- set month_ends_of_changed_only = changed_customers_only(
    model_name='int_customer_features_monthly', snapshot_dates=ref('int_snapshot_dates')
) %}
{%- set sums = daily_activity_sums() %}
with

daily_activity as (
    select * from {{ ref('int_customer_daily_activity') }}
),

snapshot_dates as (
    select * from {{ ref('int_snapshot_dates') }}
),

current_customer_totals as (
    select * from {{ ref('int_customer_totals_current') }}
),
{%- if month_ends_of_changed_only %}

    changed_customers as (
        select * from {{ ref('int_customers_changed') }}
    ),
{%- endif %}

snapshot_intervals as (
    -- a month end adds the days from the previous month end (the first one: all days) up to
    -- the day before its date
    select
        snapshot_set,
        as_of_date,
        lag(as_of_date) over (partition by snapshot_set order by as_of_date)
            as previous_as_of_date
    from snapshot_dates
    where snapshot_set = 'month_end'
),

activity_dates as (
    select distinct activity_date
    from daily_activity
),

date_buckets as (
    -- each day with activity and the month end it first counts in (days on or after the
    -- last month end count in none)
    select
        snapshot_intervals.snapshot_set,
        snapshot_intervals.as_of_date,
        activity_dates.activity_date
    from activity_dates
    inner join snapshot_intervals
        on
            activity_dates.activity_date < snapshot_intervals.as_of_date
            and (
                snapshot_intervals.previous_as_of_date is null
                or activity_dates.activity_date >= snapshot_intervals.previous_as_of_date
            )
),

bucket_totals as (
    select
        date_buckets.snapshot_set,
        date_buckets.as_of_date,
        daily_activity.customer_id,
        {{- daily_activity_totals('daily_activity') | indent(4) }}
    from daily_activity
    inner join date_buckets
        on daily_activity.activity_date = date_buckets.activity_date
    {%- if month_ends_of_changed_only %}
        where daily_activity.customer_id in (select customer_id from changed_customers)
    {%- endif %}
    group by date_buckets.snapshot_set, date_buckets.as_of_date, daily_activity.customer_id
),

current_totals as (
    -- one snapshot, the analysis date: every customer's totals of the days before it
    -- (columns as in running_totals)
    select
        snapshot_dates.snapshot_set,
        snapshot_dates.as_of_date,
        current_customer_totals.customer_id,
        {%- for column in sums %}
            current_customer_totals.{{ column }},
        {%- endfor %}
        {%- if uses_sessions %}
        current_customer_totals.last_session_at,
        {%- endif %}
        current_customer_totals.first_order_at,
        current_customer_totals.last_order_at
    from current_customer_totals
    cross join snapshot_dates
    where snapshot_dates.snapshot_set = 'current'
),

bucket_running_totals as (
    -- the totals as of each bucket of the `month_end` set: running sums over a customer's
    -- buckets (a month without activity has none, so this sorts fewer rows than one per
    -- customer and snapshot), and the date of the customer's next bucket
    select
        snapshot_set,
        as_of_date,
        customer_id,
        {%- for column in sums %}
            sum(coalesce({{ column }}, 0)) over customer_buckets as {{ column }},
        {%- endfor %}
        {%- if uses_sessions %}
        max(last_session_at) over customer_buckets as last_session_at,
        {%- endif %}
        min(first_order_at) over customer_buckets as first_order_at,
        max(last_order_at) over customer_buckets as last_order_at,
        lead(as_of_date) over (
            partition by snapshot_set, customer_id
            order by as_of_date
        ) as next_as_of_date
    from bucket_totals
    where snapshot_set = 'month_end'
    window customer_buckets as (
        partition by snapshot_set, customer_id
        order by as_of_date
        rows between unbounded preceding and current row
    )
),

month_end_dates as (
    select as_of_date
    from snapshot_dates
    where snapshot_set = 'month_end'
),

running_totals as (
    -- every customer at every month end from the first one that sees activity, with the
    -- totals of the customer's latest bucket on or before it (columns as in current_totals)
    select
        bucket_running_totals.snapshot_set,
        month_end_dates.as_of_date,
        bucket_running_totals.customer_id,
        {%- for column in sums %}
            bucket_running_totals.{{ column }},
        {%- endfor %}
        {%- if uses_sessions %}
        bucket_running_totals.last_session_at,
        {%- endif %}
        bucket_running_totals.first_order_at,
        bucket_running_totals.last_order_at
    from bucket_running_totals
    inner join month_end_dates
        on
            bucket_running_totals.as_of_date <= month_end_dates.as_of_date
            and month_end_dates.as_of_date < coalesce(
                bucket_running_totals.next_as_of_date, cast('9999-12-31' as date)
            )
),

snapshot_totals as (
    select * from current_totals
    union all
    select * from running_totals
),

final as (
    select
        snapshot_set,
        as_of_date,
        customer_id,
        cast(orders_placed as integer) as orders_placed,
        cast(orders_cancelled as integer) as orders_cancelled,
        cast(orders_kept as integer) as frequency,
        first_order_at,
        last_order_at,
        cast(units_sold as bigint) as units_sold,
        cast(units_returned as bigint) as units_returned,
        cast(orders_first_returned as integer) as orders_with_return,
        cast(gross_amount as {{ type_money() }}) as gross_amount,
        cast(discount_amount as {{ type_money() }}) as discount_amount,
        cast(net_sales as {{ type_money() }}) as net_sales,
        cast(refund_amount as {{ type_money() }}) as refund_amount,
        cast(net_sales - refund_amount as {{ type_money() }}) as monetary,
        cast(new_categories as integer) as category_breadth
    {%- if uses_sessions %},
        cast(session_count as integer) as session_count,
        cast(page_views as bigint) as page_views,
        cast(product_views as bigint) as product_views,
        cast(cart_adds as bigint) as cart_adds,
        cast(sessions_with_cart_add as integer) as sessions_with_cart_add,
        last_session_at
        {%- endif %}
    from snapshot_totals
    -- a customer counts from their first order (web sessions may come before it)
    where orders_placed > 0
)

select * from final
