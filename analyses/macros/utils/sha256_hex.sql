-- sha256_hex (macros/utils/cleaning.sql)
select {{ sha256_hex('customer_id') }} as customer_sha256
from {{ ref('stg_shop__customers') }}
