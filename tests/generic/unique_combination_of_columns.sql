{% test unique_combination_of_columns(model, combination_of_columns) %}
{#- Composite primary key: no two rows share the same values of these columns. -#}
select
    {{ combination_of_columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}
