-- RFM per customer with at least one kept order: recency, frequency, monetary, 1-5
-- quintile scores, the named RFM segment from the seed grid and its recommended action
-- (seed segment_playbook).
with

customer_features as (
    select * from {{ ref('int_customer_features_current') }}
),

rfm_segments as (
    select * from {{ ref('rfm_segments') }}
),

rfm_playbook as (
    select * from {{ ref('segment_playbook') }}
    where source = 'rfm'
),

rfm_values as (
    select
        customer_id,
        as_of_date,
        recency_days,
        frequency,
        monetary,
        last_order_at
    from customer_features
),

scored as (
    select
        *,
        {{ quintile_score('recency_days', higher_is_better=false) }} as r_score,
        {{ quintile_score('frequency') }} as f_score,
        {{ quintile_score('monetary') }} as m_score
    from rfm_values
),

final as (
    select
        scored.customer_id,
        cast(scored.recency_days as integer) as recency_days,
        cast(scored.frequency as integer) as frequency,
        cast(scored.monetary as {{ type_money() }}) as monetary,
        cast(scored.r_score as integer) as r_score,
        cast(scored.f_score as integer) as f_score,
        cast(scored.m_score as integer) as m_score,
        {{ dbt.concat([
            'cast(scored.r_score as ' ~ dbt.type_string() ~ ')',
            'cast(scored.f_score as ' ~ dbt.type_string() ~ ')',
            'cast(scored.m_score as ' ~ dbt.type_string() ~ ')',
        ]) }} as rfm_score,
        rfm_segments.rfm_segment,
        scored.last_order_at,
        scored.as_of_date,
        rfm_playbook.recommended_action
    from scored
    left join rfm_segments
        on
            scored.r_score = rfm_segments.r_score
            and scored.f_score = rfm_segments.f_score
    left join rfm_playbook
        on rfm_segments.rfm_segment = rfm_playbook.segment_type
)

select * from final
