-- clean_enum (macros/utils/cleaning.sql)
select {{ clean_enum('acquisition_channel') }} as acquisition_channel
from {{ source('shop', 'customers') }}
