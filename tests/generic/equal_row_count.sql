{% test equal_row_count(model, compare_model) %}
{#- The model has exactly as many rows as compare_model (e.g. one segment per customer). -#}
select *
from (
    select
        (select count(*) from {{ model }}) as model_rows,
        (select count(*) from {{ compare_model }}) as compare_rows
) as counts
where model_rows != compare_rows
{% endtest %}
