-- delete_rows (macros/raw/applied_files.sql): the pre-hooks' delete, of the rows whose key a
-- select lists, and of every row.
{{ delete_rows(
    ref('customer_returns'), 'customer_id',
    'select customer_id from ' ~ ref('int_customers_changed')
) }};
{{ delete_rows(ref('stg_shop__returns'), none, none) }};
