{% test quarantined_share(model, key_column) %}
{#- The share of a raw table's rows that staging quarantines, on a base model (every raw row
    with the first rule it breaks). One row per reject reason, with its count, the first and
    last example key, and the table's quarantined share in basis points on every row.
    fail_calc takes that share, so the thresholds read as shares: warn above var
    quarantine_warn_share (1%), fail the build above var quarantine_error_share (20%). The
    on-run-end hook report_quarantine_shares prints the reasons of a test that warns or fails. -#}
{{ config(
    fail_calc='coalesce(max(quarantined_basis_points), 0)',
    warn_if='>' ~ (var('quarantine_warn_share') * 10000) | round | int,
    error_if='>' ~ (var('quarantine_error_share') * 10000) | round | int,
) }}
with

raw_rows as (
    select
        reject_reason,
        coalesce({{ key_column }}, '(empty)') as example_key
    from {{ model }}
),

totals as (
    select
        count(*) as raw_rows,
        count(reject_reason) as quarantined_rows
    from raw_rows
),

reasons as (
    select
        reject_reason,
        count(*) as rows_with_reason,
        min(example_key) as first_example_key,
        max(example_key) as last_example_key
    from raw_rows
    where reject_reason is not null
    group by reject_reason
),

final as (
    select
        reasons.reject_reason,
        reasons.rows_with_reason,
        reasons.first_example_key,
        reasons.last_example_key,
        totals.raw_rows,
        totals.quarantined_rows,
        cast(ceil(10000.0 * totals.quarantined_rows / totals.raw_rows) as integer)
            as quarantined_basis_points
    from reasons
    cross join totals
)

select * from final
{% endtest %}
