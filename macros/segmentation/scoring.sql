{#-
    Column lists of the SQL scoring (customer_segments, int_customer_segments_monthly,
    int_segment_scoring_params), generated from var segmentation_features and the
    var segmentation_k_max centroid slots. The models show the steps; these macros only
    spell out one column per feature or per slot.
-#}

{% macro scoring_slots() -%}
    {#- The centroid slots 1..segmentation_k_max: slot i holds the i-th segment by id. -#}
    {{ return(range(1, (var('segmentation_k_max') | int) + 1) | list) }}
{%- endmacro %}


{% macro standardise_feature(value, use_log, feature_mean, feature_std, clip_lower, clip_upper) -%}
    {#- The fit's transform, in the Python package's steps (clustering/transform.py): the
        value winsorised to [clip_lower, clip_upper] (a NULL bound does not clip; NULL stays
        NULL), log1p of it clipped at 0 when use_log, standardise, then NULL -> 0 (the
        mean). -#}
    {%- set clipped = 'least(greatest(' ~ value ~ ', ' ~ clip_lower ~ '), ' ~ clip_upper ~ ')' %}
    coalesce(
        (
            case
                when {{ value }} is null then null
                when {{ use_log }} then ln(1 + greatest({{ clipped }}, 0))
                else {{ clipped }}
            end
            - {{ feature_mean }}
        ) / nullif({{ feature_std }}, 0),
        0
    )
{%- endmacro %}


{% macro standardised_feature_columns(source, params) -%}
    {#- z__<feature> for every configured feature of `source`, with the current model's
        transform from the one-row `params` (int_segment_scoring_params). A feature the model
        does not use has no parameters: its z is 0, like its centroid coordinate. -#}
    {%- for feature in var('segmentation_features') %}
        {{ standardise_feature(
            'cast(' ~ source ~ '.' ~ feature ~ ' as double)',
            'coalesce(' ~ params ~ '.use_log__' ~ feature ~ ', false)',
            params ~ '.mean__' ~ feature,
            params ~ '.std__' ~ feature,
            params ~ '.lower__' ~ feature,
            params ~ '.upper__' ~ feature
        ) }} as z__{{ feature }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{% macro slot_distance_columns(standardised, params) -%}
    {#- distance__<i>: squared Euclidean distance from each row's z to slot i's centroid;
        null for an empty slot (its coordinates are null), which least() skips. -#}
    {%- for slot in scoring_slots() %}
        {% for feature in var('segmentation_features') -%}
            ({{ standardised }}.z__{{ feature }} - {{ params }}.c{{ slot }}__{{ feature }})
            * ({{ standardised }}.z__{{ feature }} - {{ params }}.c{{ slot }}__{{ feature }})
            {%- if not loop.last %} + {% endif %}
        {% endfor -%} as distance__{{ slot }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{% macro smallest_slot_distance(distances, except_slot=none) -%}
    {#- The smallest distance__<i> of a row (skipping slot `except_slot`, a SQL expression). -#}
    least(
        {%- for slot in scoring_slots() %}
        {% if except_slot is not none -%}
            case when {{ except_slot }} <> {{ slot }} then {{ distances }}.distance__{{ slot }} end
        {%- else -%}
            {{ distances }}.distance__{{ slot }}
        {%- endif %}{{ ',' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}


{% macro first_slot_at(distances, distance) -%}
    {#- The first slot whose distance equals `distance` (ties go to the lower segment id). -#}
    case
        {%- for slot in scoring_slots() %}
        when {{ distances }}.distance__{{ slot }} = {{ distance }} then {{ slot }}
        {%- endfor %}
    end
{%- endmacro %}


{% macro slot_segment_id(params, slot) -%}
    {#- The segment id held by slot `slot` (a SQL expression) in the one-row `params`. -#}
    case {{ slot }}
        {%- for i in scoring_slots() %}
        when {{ i }} then {{ params }}.segment_id__{{ i }}
        {%- endfor %}
    end
{%- endmacro %}
