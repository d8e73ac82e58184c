-- code_point_text (macros/utils/cleaning.sql)
select {{ code_point_text([9, 32, 160, 8203, 65279]) }} as characters
