-- all_columns_except (macros/utils/columns.sql)
select {{ all_columns_except(['_source_file', '_source_row']) }}
from {{ ref('stg_shop__orders') }}
