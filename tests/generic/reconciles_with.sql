{% test reconciles_with(model, kept, quarantined, superseded=none) %}
{#- Nothing lost: every raw row is kept, quarantined, or superseded by a later batch file's row
    of the same key (`superseded`: the base model, whose superseded_by_file is set on those
    rows). Fails with one row showing the four counts when raw rows != kept rows +
    quarantined rows + superseded rows. -#}
with

counts as (
    select
        (select count(*) from {{ model }}) as raw_rows,
        (select count(*) from {{ kept }}) as kept_rows,
        (select count(*) from {{ quarantined }}) as quarantined_rows,
        {% if superseded is not none -%}
        (select count(*) from {{ superseded }} where superseded_by_file is not null)
        {%- else -%}
        0
        {%- endif %} as superseded_rows
)

select * from counts
where raw_rows != kept_rows + quarantined_rows + superseded_rows
{% endtest %}
