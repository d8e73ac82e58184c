{% test same_for_equal_values(model, column_name, of) %}
{#- Rows with the same value of `of` have the same value of this column (it depends on
    `of` alone): e.g. customers with the same frequency get the same RFM frequency score.
    Fails with each value of `of` that got more than one. NULLs of `of` form one group. -#}
select
    {{ of }} as shared_value,
    count(distinct {{ column_name }}) as distinct_values
from {{ model }}
group by {{ of }}
having count(distinct {{ column_name }}) > 1
{% endtest %}
