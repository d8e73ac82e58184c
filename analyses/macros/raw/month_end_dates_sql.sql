-- month_end_dates_sql (macros/raw/applied_files.sql): the month ends of int_snapshot_dates
-- as one text, as the ledger records them for the month-end snapshot models.
select {{ month_end_dates_sql(ref('int_snapshot_dates')) }} as snapshot_dates
