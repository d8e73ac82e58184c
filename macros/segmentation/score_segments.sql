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

{% macro nearest_segment(standardised, centroids, key_columns) -%}
    {#- Nearest centroid per key by squared Euclidean distance, ties to the lower segment_id,
        with the margin to the second nearest. `standardised` has keys..., feature, z;
        `centroids` has segment_id, segment_name, model_version, feature, centroid_std. -#}
    {%- set keys = key_columns | join(', ') -%}
    with

    distances as (
        select
            {%- for key in key_columns %}
            standardised_rows.{{ key }},
            {%- endfor %}
            centroid_rows.segment_id,
            centroid_rows.segment_name,
            centroid_rows.model_version,
            sum(
                (standardised_rows.z - centroid_rows.centroid_std)
                * (standardised_rows.z - centroid_rows.centroid_std)
            ) as distance
        from {{ standardised }} as standardised_rows
        inner join {{ centroids }} as centroid_rows
            on standardised_rows.feature = centroid_rows.feature
        group by
            {%- for key in key_columns %}
            standardised_rows.{{ key }},
            {%- endfor %}
            centroid_rows.segment_id,
            centroid_rows.segment_name,
            centroid_rows.model_version
    ),

    ranked as (
        select
            *,
            row_number() over (
                partition by {{ keys }} order by distance asc, segment_id asc
            ) as distance_rank
        from distances
    ),

    nearest as (
        select
            {%- for key in key_columns %}
            nearest_rows.{{ key }},
            {%- endfor %}
            nearest_rows.segment_id,
            nearest_rows.segment_name,
            nearest_rows.distance,
            second_rows.distance - nearest_rows.distance as margin,
            nearest_rows.model_version
        from ranked as nearest_rows
        left join ranked as second_rows
            on
                {%- for key in key_columns %}
                nearest_rows.{{ key }} = second_rows.{{ key }} and
                {%- endfor %}
                second_rows.distance_rank = 2
        where nearest_rows.distance_rank = 1
    )

    select * from nearest
{%- endmacro %}

{% macro standardise_features(relation, key_columns) -%}
    {#- The configured features of `relation` (one row per key), long and transformed with
        the current model's parameters: keys..., feature, feature_value, z. -#}
    with

    feature_params as (
        select distinct
            feature,
            use_log,
            feature_mean,
            feature_std
        from {{ ref('int_segment_centroids_current') }}
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
