-- depends_on: {{ source('segmentation_state', 'segment_fit_sample') }}
-- The fit samples of the model versions before this build (one row per model version,
-- customer and feature, with the raw feature value); no rows on the first build, when the
-- table does not exist yet. A view: it reads the table as it is when the drift check runs,
-- before this build's fit appends to it.
{%- set fit_samples = source('segmentation_state', 'segment_fit_sample') %}
{%- set has_history = relation_exists(fit_samples.schema, fit_samples.identifier) %}
with

final as (
    {%- if has_history %}
        select
            cast(model_version as integer) as model_version,
            customer_id,
            feature,
            cast(feature_value as double) as feature_value
        from {{ fit_samples }}
    {%- else %}
        select
            cast(null as integer) as model_version,
            cast(null as {{ dbt.type_string() }}) as customer_id,
            cast(null as {{ dbt.type_string() }}) as feature,
            cast(null as double) as feature_value
        where 1 = 0
    {%- endif %}
)

select * from final
