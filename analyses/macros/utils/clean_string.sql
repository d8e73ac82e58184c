-- clean_string (macros/utils/cleaning.sql)
select {{ clean_string('customer_id') }} as customer_id
from {{ source('shop', 'customers') }}
