{% macro unpivot_features(relation, key_columns) -%}
    {#- Long form (keys..., feature, feature_value) of the configured segmentation features:
        one scan of the relation, one row per customer and feature. -#}
    {%- set features = var('segmentation_features') -%}
    select
        {%- for key in key_columns %}
        source_rows.{{ key }},
        {%- endfor %}
        feature_names.feature,
        case feature_names.feature
            {%- for feature in features %}
            when '{{ feature }}' then cast(source_rows.{{ feature }} as double)
            {%- endfor %}
        end as feature_value
    from {{ relation }} as source_rows
    cross join (
        {%- for feature in features %}
        select '{{ feature }}' as feature{% if not loop.last %} union all{% endif %}
        {%- endfor %}
    ) as feature_names
{%- endmacro %}

{% macro standardise_feature(value, use_log, feature_mean, feature_std) -%}
    {#- The fit's transform, exactly as the Python package applies it: log1p of the value
        clipped at 0 when use_log (NULL stays NULL), standardise, then NULL -> 0 (the mean). -#}
    coalesce(
        (
            case
                when {{ use_log }}
                    then case when {{ value }} is not null then ln(1 + greatest({{ value }}, 0)) end
                else {{ value }}
            end
            - {{ feature_mean }}
        ) / nullif({{ feature_std }}, 0),
        0
    )
{%- endmacro %}

{% macro standardise_features(relation, key_columns) -%}
    {#- The configured features of `relation` (one row per key), long and transformed with
        the current model's parameters: keys..., feature, feature_value, z. -#}
    with

    feature_params as (
        {{ current_feature_params() }}
    ),

    features_long as (
        {{ unpivot_features(relation, key_columns) }}
    ),

    standardised as (
        select
            {%- for key in key_columns %}
            features_long.{{ key }},
            {%- endfor %}
            features_long.feature,
            features_long.feature_value,
            {{ standardise_feature(
                'features_long.feature_value', 'feature_params.use_log',
                'feature_params.feature_mean', 'feature_params.feature_std'
            ) }} as z
        from features_long
        inner join feature_params
            on features_long.feature = feature_params.feature
    )

    select * from standardised
{%- endmacro %}

{% macro standardise_features_wide(relation, key_columns) -%}
    {#- One row per key with a column z__<feature> for every configured feature, transformed
        with the current model's parameters. A feature the model dropped (constant on its fit
        sample) has no parameters: its z is 0, like a missing value, and its centroid
        coordinate is 0 too (nearest_segment_wide), so it adds nothing to any distance. -#}
    {%- set features = var('segmentation_features') -%}
    with

    feature_params as (
        {{ current_feature_params() }}
    ),

    params_wide as (
        select
            {%- for feature in features %}
            bool_or(case when feature = '{{ feature }}' then use_log end)
                as use_log__{{ feature }},
            max(case when feature = '{{ feature }}' then feature_mean end)
                as mean__{{ feature }},
            max(case when feature = '{{ feature }}' then feature_std end)
                as std__{{ feature }}{% if not loop.last %},{% endif %}
            {%- endfor %}
        from feature_params
    ),

    standardised as (
        select
            {%- for key in key_columns %}
            source_rows.{{ key }},
            {%- endfor %}
            {%- for feature in features %}
            {{ standardise_feature(
                'cast(source_rows.' ~ feature ~ ' as double)',
                'coalesce(params_wide.use_log__' ~ feature ~ ', false)',
                'params_wide.mean__' ~ feature,
                'params_wide.std__' ~ feature
            ) }} as z__{{ feature }}{% if not loop.last %},{% endif %}
            {%- endfor %}
        from {{ relation }} as source_rows
        cross join params_wide
    )

    select * from standardised
{%- endmacro %}

{% macro nearest_segment_wide(standardised, centroids, key_columns) -%}
    {#- Nearest centroid per key by squared Euclidean distance over the configured features,
        ties to the lower segment_id, with the margin to the second nearest.

        Row by row, without a sort or a group-by over the keys: the centroids are pivoted
        into one row of var segmentation_k_max slots (slot i = the i-th segment by
        segment_id; an empty slot has null coordinates, so a null distance that least()
        skips), every row gets its distance to each slot, and the nearest is the first slot
        at the smallest distance. Scoring 140M customer-months at 10M customers is then a
        scan, not a 560M-row window (which spilled past the disk). The singular test
        assert_segments_fit_the_scoring_slots fails the build if a model has more segments
        than slots. -#}
    {%- set features = var('segmentation_features') -%}
    {%- set slots = range(1, (var('segmentation_k_max') | int) + 1) | list -%}
    with

    centroids_wide as (
        select
            segment_id,
            segment_name,
            model_version,
            {%- for feature in features %}
            coalesce(max(case when feature = '{{ feature }}' then centroid_std end), 0)
                as c__{{ feature }}{% if not loop.last %},{% endif %}
            {%- endfor %}
        from {{ centroids }}
        group by segment_id, segment_name, model_version
    ),

    centroid_slots as (
        select
            *,
            row_number() over (order by segment_id) as slot
        from centroids_wide
    ),

    slots_row as (
        -- one row: slot i's segment_id and coordinates
        select
            {%- for i in slots %}
            max(case when slot = {{ i }} then segment_id end) as segment_id__{{ i }},
            {%- for feature in features %}
            max(case when slot = {{ i }} then c__{{ feature }} end)
                as c{{ i }}__{{ feature }}{% if not (loop.last and i == slots[-1]) %},{% endif %}
            {%- endfor %}
            {%- endfor %}
        from centroid_slots
    ),

    distances as (
        select
            {%- for key in key_columns %}
            standardised_rows.{{ key }},
            {%- endfor %}
            {%- for i in slots %}
            slots_row.segment_id__{{ i }},
            {%- for feature in features %}
            (standardised_rows.z__{{ feature }} - slots_row.c{{ i }}__{{ feature }})
            * (standardised_rows.z__{{ feature }} - slots_row.c{{ i }}__{{ feature }})
            {%- if not loop.last %} +{% endif %}
            {%- endfor %} as distance__{{ i }}{% if not loop.last %},{% endif %}
            {%- endfor %}
        from {{ standardised }} as standardised_rows
        cross join slots_row
    ),

    nearest_slot as (
        select
            *,
            least(
                {%- for i in slots %}
                distance__{{ i }}{% if not loop.last %},{% endif %}
                {%- endfor %}
            ) as distance
        from distances
    ),

    chosen as (
        select
            *,
            case
                {%- for i in slots %}
                when distance__{{ i }} = distance then {{ i }}
                {%- endfor %}
            end as chosen_slot
        from nearest_slot
    ),

    nearest as (
        select
            {%- for key in key_columns %}
            chosen.{{ key }},
            {%- endfor %}
            case chosen.chosen_slot
                {%- for i in slots %}
                when {{ i }} then chosen.segment_id__{{ i }}
                {%- endfor %}
            end as segment_id,
            chosen.distance,
            -- the smallest distance among the other slots (null with a single segment)
            least(
                {%- for i in slots %}
                case when chosen.chosen_slot <> {{ i }} then chosen.distance__{{ i }} end
                {%- if not loop.last %},{% endif %}
                {%- endfor %}
            ) - chosen.distance as margin
        from chosen
    ),

    final as (
        select
            {%- for key in key_columns %}
            nearest.{{ key }},
            {%- endfor %}
            nearest.segment_id,
            centroids_wide.segment_name,
            nearest.distance,
            nearest.margin,
            centroids_wide.model_version
        from nearest
        inner join centroids_wide
            on nearest.segment_id = centroids_wide.segment_id
    )

    select * from final
{%- endmacro %}

{% macro current_feature_params() -%}
    {#- The transform of the current model: one row per feature it uses (use_log, mean, std). -#}
    select distinct
        feature,
        use_log,
        feature_mean,
        feature_std
    from {{ ref('int_segment_centroids_current') }}
{%- endmacro %}
