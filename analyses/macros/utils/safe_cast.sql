-- duckdb__safe_cast (macros/utils/safe_cast.sql), dispatched from dbt.safe_cast.
select {{ dbt.safe_cast('quantity', dbt.type_bigint()) }} as quantity
from {{ source('shop', 'order_items') }}
