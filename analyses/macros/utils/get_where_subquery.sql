-- default__get_where_subquery (macros/utils/where_subquery.sql), with the placeholder of the
-- tests that read only the latest build's rows
{{ config(where="_built_at = __latest_build__") }}
select count(*) as latest_rows
from {{ default__get_where_subquery(ref('int_customer_daily_activity')) }}
