-- days_between (macros/utils/cleaning.sql); dbt-duckdb's datediff, which it calls, writes a
-- space before its closing bracket
select
    return_id,
    {{ days_between('ordered_at', 'returned_at') }} as days_to_return -- noqa: LT01
from {{ ref('fct_returns') }}
