{% test has_rows(model) %}
{#- Fails (one row) when the model is empty: a build whose customer marts end up empty has
    lost its input (every order quarantined, a wrong analysis date, ...) and must not pass.
    Passes under `dbt build --empty`, which builds every model without rows. -#}
select 'the model is empty' as problem
where
    not exists (select 1 from {{ model }})
    and {{ 'false' if flags.EMPTY else 'true' }}
{% endtest %}
