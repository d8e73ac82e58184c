-- in_files (macros/raw/applied_files.sql): a list of paths, and none (false, so no read).
with

some_files as (
    select customer_id
    from {{ ref('stg_shop__orders') }}
    where {{ in_files('_source_file', ['/raw/orders/1.parquet', "/raw/orders/o'k.parquet"]) }}
),

no_files as (
    select customer_id
    from {{ ref('stg_shop__orders') }}
    where {{ in_files('_source_file', []) }}
)

select * from some_files
union all
select * from no_files
