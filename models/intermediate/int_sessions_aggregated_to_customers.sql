-- One row per customer with at least one identified web session before the analysis date.
{{ customer_session_metrics(ref('int_analysis_date')) }}
