-- What each segment of the current model looks like: size, value, behaviour, returns, its
-- favourite category and return reason (from the lines bought and returned before the
-- analysis date), a short text of what sets it apart, the attribute values it
-- over-indexes on most (segment_attribute_lift), and the playbook's recommended action and
-- KPI.
with

customer_segments as (
    select * from {{ ref('customer_segments') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

customer_orders as (
    select * from {{ ref('int_customer_features_current') }}
),

segment_deviations as (
    select * from {{ ref('segment_feature_deviations') }}
),

analysis_date as (
    select * from {{ ref('int_analysis_date') }}
),

playbook as (
    select * from {{ ref('int_segment_playbook') }}
),

attribute_lift as (
    select * from {{ ref('segment_attribute_lift') }}
),

all_order_items as (
    select * from {{ ref('fct_order_items') }}
    where not is_cancelled
),

all_returns as (
    select * from {{ ref('fct_returns') }}
),

order_items as (
    -- what the customers bought before the analysis date, like their features: no look-ahead
    select all_order_items.*
    from all_order_items
    inner join analysis_date
        on all_order_items.ordered_date < analysis_date.as_of_date
),

returns as (
    select all_returns.*
    from all_returns
    inner join analysis_date
        on all_returns.returned_date < analysis_date.as_of_date
),

segment_customers as (
    select
        customer_segments.segment_id,
        customer_segments.segment_name,
        customer_segments.model_version,
        customer_segments.customer_id,
        customer_orders.monetary,
        customer_orders.net_sales,
        customer_orders.frequency,
        customer_orders.units_sold,
        customer_orders.units_returned,
        customer_orders.orders_with_return,
        customer_orders.refund_amount,
        customers.recency_days
    from customer_segments
    inner join customer_orders
        on customer_segments.customer_id = customer_orders.customer_id
    left join customers
        on customer_segments.customer_id = customers.customer_id
),

segment_totals as (
    select
        segment_id,
        segment_name,
        model_version,
        count(*) as customers,
        sum(monetary) as revenue,
        {{ exact_mean('monetary') }} as mean_monetary,
        {{ median('cast(monetary as double)') }} as median_monetary,
        {{ safe_divide('sum(net_sales)', 'sum(frequency)') }} as net_sales_per_order,
        avg(cast(frequency as double)) as mean_frequency,
        avg(cast(recency_days as double)) as mean_recency_days,
        {{ safe_divide('sum(units_returned)', 'sum(units_sold)') }} as returned_units_share,
        {{ safe_divide('sum(orders_with_return)', 'sum(frequency)') }} as orders_with_return_share,
        {{ safe_divide('sum(refund_amount)', 'sum(net_sales)') }} as refunded_value_share
    from segment_customers
    group by segment_id, segment_name, model_version
),

category_ranked as (
    select
        customer_segments.segment_id,
        order_items.category,
        row_number() over (
            partition by customer_segments.segment_id
            order by sum(order_items.net_amount) desc, order_items.category asc
        ) as category_rank
    from order_items
    inner join customer_segments
        on order_items.customer_id = customer_segments.customer_id
    group by customer_segments.segment_id, order_items.category
),

reason_ranked as (
    select
        customer_segments.segment_id,
        returns.return_reason,
        row_number() over (
            partition by customer_segments.segment_id
            order by sum(returns.quantity) desc, returns.return_reason asc
        ) as reason_rank
    from returns
    inner join customer_segments
        on returns.customer_id = customer_segments.customer_id
    group by customer_segments.segment_id, returns.return_reason
),

characteristics as (
    -- The three features whose standardised segment mean is furthest from 0, in words.
    select
        segment_id,
        {{ dbt.listagg('phrase', "'; '", 'order by abs_deviation desc, feature asc') }}
            as characteristics_text
    from (
        select
            segment_id,
            feature,
            abs(standardised_deviation) as abs_deviation,
            {{ feature_phrase('feature', 'segment_mean', 'population_mean') }} as phrase,
            row_number() over (
                partition by segment_id
                order by abs(standardised_deviation) desc, feature asc
            ) as deviation_rank
        from segment_deviations
    ) as ranked_deviations
    where deviation_rank <= 3
    group by segment_id
),

top_attributes as (
    -- the three supported attribute values the segment over-indexes on most (lift > 1.2)
    select
        segment_id,
        {{ dbt.listagg(
            "replace(attribute_name, '_', ' ') || ': ' || attribute_value || ' ('
            || " ~ ratio_text('segment_share', 'population_share') ~ " || ')'",
            "'; '", 'order by lift_rank'
        ) }} as top_attributes_text
    from attribute_lift
    where lift_rank <= 3 and lift > 1.2
    group by segment_id
),

final as (
    select
        cast(segment_totals.model_version as integer) as model_version,
        cast(segment_totals.segment_id as integer) as segment_id,
        segment_totals.segment_name,
        cast(segment_totals.customers as bigint) as customers,
        {{ stable_double(safe_divide(
            'segment_totals.customers', 'sum(segment_totals.customers) over ()'
        )) }} as customer_share,
        cast(segment_totals.revenue as {{ type_money() }}) as revenue,
        {{ stable_double(safe_divide(
            'segment_totals.revenue', 'sum(segment_totals.revenue) over ()'
        )) }} as revenue_share,
        {{ stable_double('segment_totals.mean_monetary') }} as mean_monetary,
        {{ stable_double('segment_totals.median_monetary') }} as median_monetary,
        {{ stable_double('segment_totals.net_sales_per_order') }} as net_sales_per_order,
        {{ stable_double('segment_totals.mean_frequency') }} as mean_frequency,
        {{ stable_double('segment_totals.mean_recency_days') }} as mean_recency_days,
        {{ stable_double('segment_totals.returned_units_share') }} as returned_units_share,
        {{ stable_double('segment_totals.orders_with_return_share') }} as orders_with_return_share,
        {{ stable_double('segment_totals.refunded_value_share') }} as refunded_value_share,
        category_ranked.category as top_category,
        reason_ranked.return_reason as top_return_reason,
        coalesce(characteristics.characteristics_text, 'close to the average customer')
            as characteristics,  -- noqa: RF04
        playbook.recommended_action,
        playbook.kpi,
        top_attributes.top_attributes_text as top_attributes
    from segment_totals
    left join category_ranked
        on
            segment_totals.segment_id = category_ranked.segment_id
            and category_ranked.category_rank = 1
    left join reason_ranked
        on
            segment_totals.segment_id = reason_ranked.segment_id
            and reason_ranked.reason_rank = 1
    left join characteristics
        on segment_totals.segment_id = characteristics.segment_id
    left join playbook
        on segment_totals.segment_id = playbook.segment_id
    left join top_attributes
        on segment_totals.segment_id = top_attributes.segment_id
)

select * from final
