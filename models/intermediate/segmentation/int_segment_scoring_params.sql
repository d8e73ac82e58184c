-- The current model in one row, as the SQL scoring reads it: per configured feature its
-- transform (use_log__<f>, mean__<f>, std__<f>, the winsorising bounds lower__<f> and
-- upper__<f>), and the centroids in var
-- segmentation_k_max slots (slot i = the i-th segment by id: segment_id__<i> and its
-- coordinates c<i>__<f>; empty slots are null). Scoring is then one pass over the
-- customers with no sort or group-by over them. The singular test
-- assert_segments_fit_the_scoring_slots fails the build if a model has more segments
-- than slots.
{%- set features = var('segmentation_features') %}
with

centroids as (
    select * from {{ ref('int_segment_centroids_current') }}
),

feature_params as (
    select
        {%- for feature in features %}
            bool_or(case when feature = '{{ feature }}' then use_log end) as use_log__{{ feature }},
            max(case when feature = '{{ feature }}' then feature_mean end) as mean__{{ feature }},
            max(case when feature = '{{ feature }}' then feature_std end) as std__{{ feature }},
            max(case when feature = '{{ feature }}' then clip_lower end) as lower__{{ feature }},
            max(case when feature = '{{ feature }}' then clip_upper end) as upper__{{ feature }},
        {%- endfor %}
        max(model_version) as model_version
    from centroids
),

segment_coordinates as (
    -- one row per segment; a feature the model does not use is at 0 (the mean)
    select
        segment_id,
        {%- for feature in features %}
            coalesce(max(case when feature = '{{ feature }}' then centroid_std end), 0)
                as c__{{ feature }},
        {%- endfor %}
        row_number() over (order by segment_id) as slot
    from centroids
    group by segment_id
),

slot_coordinates as (
    select
        {%- for slot in scoring_slots() %}
            max(case when slot = {{ slot }} then segment_id end) as segment_id__{{ slot }},
            {%- for feature in features %}
                max(case when slot = {{ slot }} then c__{{ feature }} end)
                    as c{{ slot }}__{{ feature }},
            {%- endfor %}
        {%- endfor %}
        count(*) as segments
    from segment_coordinates
),

final as (
    select
        feature_params.*,
        slot_coordinates.*
    from feature_params
    cross join slot_coordinates
)

select * from final
