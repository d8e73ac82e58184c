-- ledger_replacement (macros/raw/applied_files.sql): the post-hook record_applied_files'
-- statements, with the month ends of int_snapshot_dates.
{{ ledger_replacement(
    'int_customer_features_monthly', 'fingerprint',
    month_end_dates_sql(ref('int_snapshot_dates'))
) }}
