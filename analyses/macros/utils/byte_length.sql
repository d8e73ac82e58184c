-- byte_length (macros/utils/cleaning.sql)
select {{ byte_length('email') }} as email_bytes
from {{ ref('stg_shop__customers') }}
