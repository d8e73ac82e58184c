-- One row per segmented customer, ready to hand to the tools that act on a segment (email,
-- ads, CRM): the segment and its recommended action, the customer's priority within the
-- segment (by spend after refunds), and the SHA-256 of the trimmed, lower-cased email, the
-- format ad platforms' customer-match uploads accept. Pseudonymised personal data: not a
-- public mart, so `segmentation publish` leaves it out; `segmentation export audiences`
-- writes one segment's audience when asked.
with

customer_segments as (
    select * from {{ ref('customer_segments') }}
),

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

customer_features as (
    select * from {{ ref('int_customer_features_current') }}
),

playbook as (
    select * from {{ ref('int_segment_playbook') }}
),

final as (
    select
        customer_segments.customer_id,
        customer_segments.segment_id,
        customer_segments.segment_name,
        playbook.recommended_action,
        cast(
            row_number() over (
                partition by customer_segments.segment_id
                order by customer_features.monetary desc, customer_segments.customer_id asc
            ) as bigint
        ) as priority_rank,
        {{ stable_double(
            'percent_rank() over (partition by customer_segments.segment_id'
            ~ ' order by customer_features.monetary)'
        ) }} as priority_score,
        customers.email_sha256,
        customer_segments.model_version
    from customer_segments
    inner join customer_features
        on customer_segments.customer_id = customer_features.customer_id
    left join customers
        on customer_segments.customer_id = customers.customer_id
    left join playbook
        on customer_segments.segment_id = playbook.segment_id
)

select * from final
