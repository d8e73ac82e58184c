{% test one_chosen_k_per_version(model) %}
{#- Every model version of segment_k_selection marks exactly one k as chosen. -#}
select
    model_version,
    sum(case when is_chosen then 1 else 0 end) as chosen
from {{ model }}
group by model_version
having sum(case when is_chosen then 1 else 0 end) != 1
{% endtest %}
