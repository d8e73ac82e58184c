-- The fit and the scoring read int_segmentation_features, analysts read customer_features:
-- for every configured feature, both must hold the same customers and the same values.
{%- set columns = ['customer_id'] + var('segmentation_features') %}
with

segmentation_input as (
    select {{ columns | join(', ') }} from {{ ref('int_segmentation_features') }}
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
    'only in int_segmentation_features' as side,
    *
from only_in_input
union all
select
    'only in customer_features' as side,
    *
from only_published
