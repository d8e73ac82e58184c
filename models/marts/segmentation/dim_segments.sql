-- One row per segment of the current model version, with what to do with it (the
-- segment playbook).
with

latest_centroids as (
    select * from {{ ref('int_segment_centroids_current') }}
),

segments as (
    select distinct
        segment_id,
        segment_name,
        segment_description,
        model_version,
        fitted_at
    from latest_centroids
),

playbook as (
    select * from {{ ref('int_segment_playbook') }}
),

segment_sizes as (
    select
        segment_id,
        count(*) as customers
    from {{ ref('customer_segments') }}
    group by segment_id
),

final as (
    select
        cast(segments.segment_id as integer) as segment_id,
        segments.segment_name,
        segments.segment_description as description,
        cast(coalesce(segment_sizes.customers, 0) as bigint) as customers,
        cast(segments.model_version as integer) as model_version,
        segments.fitted_at,
        playbook.segment_archetype,
        playbook.recommended_action,
        playbook.channel,
        playbook.offer_guidance,
        playbook.kpi,
        playbook.rationale
    from segments
    left join segment_sizes
        on segments.segment_id = segment_sizes.segment_id
    left join playbook
        on segments.segment_id = playbook.segment_id
)

select * from final
