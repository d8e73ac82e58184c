-- rewritten_customers_replacement (macros/raw/applied_files.sql): the statements of
-- record_rewritten_customers.
{{ rewritten_customers_replacement('customer_returns', 'false') }}
