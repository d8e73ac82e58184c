-- trim_characters (macros/utils/cleaning.sql)
select {{ trim_characters('email') }} as email_trimmed
from {{ ref('stg_shop__customers') }}
