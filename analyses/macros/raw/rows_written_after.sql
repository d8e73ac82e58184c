-- rows_written_after (macros/raw/applied_files.sql): the orders
-- orders_rewritten_since_last_build lists.
{{ rows_written_after(
    ref('base_shop__returns'), 'order_id', "cast('2026-09-20 00:00:00' as timestamp)"
) }}
