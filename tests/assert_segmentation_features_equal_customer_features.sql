-- The fit and the scoring read int_customer_features_current, analysts read
-- customer_features: for every configured feature that customer_features publishes (its
-- documented columns), both must hold the same customers and the same values. A feature
-- added to int_customer_features only is compared by no column here (it is not published).
{%- set published_columns = [] %}
{%- if execute %}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.name == 'customer_features' %}
        {%- do published_columns.extend(node.columns.keys()) %}
    {%- endfor %}
{%- endif %}
{%- set published_features = var('segmentation_features') | select('in', published_columns) %}
{%- set columns = ['customer_id'] + (published_features | list) %}
with

segmentation_input as (
    select {{ columns | join(', ') }} from {{ ref('int_customer_features_current') }}
),

published as (
    select {{ columns | join(', ') }} from {{ ref('customer_features') }}
),

only_in_input as (
    select * from segmentation_input
    except
    select * from published
),

only_published as (
    select * from published
    except
    select * from segmentation_input
)

select
    'only in int_customer_features_current' as side,
    *
from only_in_input
union all
select
    'only in customer_features' as side,
    *
from only_published
