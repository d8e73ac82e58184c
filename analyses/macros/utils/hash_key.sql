-- hash_key (macros/utils/cleaning.sql)
select {{ hash_key('customer_id') }} as customer_key
from {{ ref('stg_shop__customers') }}
