-- trim_pattern (macros/utils/cleaning.sql)
select regexp_replace(' x ', {{ trim_pattern([9, 32, 160, 8203, 65279]) }}, '', 'g') as trimmed
