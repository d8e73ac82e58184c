-- raw_reader (macros/raw/register_raw_tables.sql): the table function of a Parquet and of a
-- CSV raw file, as the raw views read them.
with

parquet_file as (
    select *
    from {{ raw_reader('data/raw/orders.parquet', file_row_number=true) }}
),

csv_file as (
    select *
    from {{ raw_reader('data/raw/orders.csv') }}
)

select * from parquet_file
union all by name
select * from csv_file
