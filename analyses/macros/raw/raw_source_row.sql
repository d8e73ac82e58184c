-- raw_source_row (macros/raw/register_raw_tables.sql): the raw views' _source_row.
with

parquet_file as (
    select
        order_id,
        {{ raw_source_row('data/raw/orders.parquet') }} as _source_row
    from {{ raw_reader('data/raw/orders.parquet', file_row_number=true) }}
),

csv_file as (
    select
        order_id,
        {{ raw_source_row('data/raw/orders.csv') }} as _source_row
    from {{ raw_reader('data/raw/orders.csv', file_row_number=true) }}
)

select * from parquet_file
union all
select * from csv_file
