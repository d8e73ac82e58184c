{% test reconciles_with(model, kept, quarantined) %}
{#- Nothing lost: every raw row is either kept or quarantined. Fails with one row showing the
    three counts when raw rows != kept rows + quarantined rows. -#}
with

counts as (
    select
        (select count(*) from {{ model }}) as raw_rows,
        (select count(*) from {{ kept }}) as kept_rows,
        (select count(*) from {{ quarantined }}) as quarantined_rows
)

select * from counts
where raw_rows != kept_rows + quarantined_rows
{% endtest %}
