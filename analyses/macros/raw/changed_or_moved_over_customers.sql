-- changed_or_moved_over_customers (macros/raw/applied_files.sql): the customers
-- customers_summed_again lists, here with a recorded analysis date of 2026-09-20.
{{ changed_or_moved_over_customers(
    ref('int_customers_changed'), ref('int_customer_daily_activity'),
    ref('int_snapshot_dates'), '2026-09-20'
) }}
