-- parse_date (macros/utils/cleaning.sql): from text and from a native date.
select
    {{ parse_date('birth_date') }} as from_text,
    {{ parse_date('birth_date', {'birth_date': 'DATE'}) }} as from_date
from {{ source('shop', 'customers') }}
