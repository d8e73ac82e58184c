-- Each segment of the current model version with its row of the playbook (seed
-- segment_playbook, source kmeans): the row whose segment_type is the segment's name, or
-- the start of it, so a qualified or numbered name ("Regular customers (higher spend)",
-- "Regular customers 2") reads the "Regular customers" row; the longest match wins. A
-- segment without a row gets nulls here, and dim_segments' tests fail on them.
with

segments as (
    select distinct
        segment_id,
        segment_name
    from {{ ref('int_segment_centroids_current') }}
),

playbook as (
    select * from {{ ref('segment_playbook') }}
    where source = 'kmeans'
),

matches as (
    select
        segments.segment_id,
        playbook.segment_type,
        playbook.recommended_action,
        playbook.channel,
        playbook.offer_guidance,
        playbook.kpi,
        playbook.rationale,
        row_number() over (
            partition by segments.segment_id
            order by length(playbook.segment_type) desc
        ) as match_rank
    from segments
    left join playbook
        on
            segments.segment_name = playbook.segment_type
            or segments.segment_name like playbook.segment_type || ' %'
),

final as (
    select
        segment_id,
        segment_type as segment_archetype,
        recommended_action,
        channel,
        offer_guidance,
        kpi,
        rationale
    from matches
    where match_rank = 1
)

select * from final
