-- One row per customer with at least one kept order: order, spend and return totals as of
-- the analysis date (macros/features/customer_metrics.sql).
{{ customer_order_metrics(ref('int_analysis_date')) }}
