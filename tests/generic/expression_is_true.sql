{% test expression_is_true(model, expression, column_name=none) %}
{#- Arithmetic or logical invariant that must hold on every row (rows where it is false or
    NULL fail). With column_name, the expression is applied to that column. -#}
select *
from {{ model }}
where not coalesce(
    {% if column_name %}{{ column_name }} {% endif %}{{ expression }}, false
)
{% endtest %}
