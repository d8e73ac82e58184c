-- sql_text_literal (macros/utils/cleaning.sql)
select {{ sql_text_literal("it's") }} as quoted
