-- run_started_timestamp (macros/utils/as_of.sql)
select {{ run_started_timestamp() }} as fitted_at
