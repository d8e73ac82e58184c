-- iso_day_of_week (macros/utils/cleaning.sql)
select
    date_day,
    {{ iso_day_of_week('date_day') }} as iso_day_of_week
from {{ ref('dim_date') }}
