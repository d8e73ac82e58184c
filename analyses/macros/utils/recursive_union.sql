-- recursive_union (macros/utils/columns.sql)
with recursive

counted (n) as (
    select 1
    {{ recursive_union() }}
    select n + 1 from counted
    where n < 3
)

select n from counted
