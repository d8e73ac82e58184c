"""FLOOR, not the project: the RFM + unit return rate aggregation as one DuckDB SQL statement
straight on the raw Parquet files, outside dbt (no typing, cleaning, quarantine, contracts or
intermediate tables). The result is materialised as a table in an in-memory database with
the same settings as profiles/profiles.yml (2 threads, memory_limit). docs/benchmarks.md
compares the project's SQL feature models against this floor.

usage: baseline_duckdb.py RAW_DIR [--memory-limit 4GB] [--threads 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import duckdb

FLOOR_SQL = """
create table customer_rfm_floor as
with
orders as (
    select order_id, customer_id, ordered_at
    from read_parquet('{raw}/orders.parquet')
    where coalesce(status, 'delivered') <> 'cancelled'
),
returned as (
    select order_id, line_number, sum(quantity) as returned_units
    from read_parquet('{raw}/returns.parquet')
    group by order_id, line_number
),
lines as (
    select
        orders.customer_id,
        items.quantity,
        items.quantity * items.unit_price - coalesce(items.discount_amount, 0) as net_amount,
        coalesce(returned.returned_units, 0) as returned_units
    from read_parquet('{raw}/order_items.parquet') as items
    inner join orders on items.order_id = orders.order_id
    left join returned
        on items.order_id = returned.order_id and items.line_number = returned.line_number
),
per_order as (
    select customer_id, max(ordered_at) as last_order_at, count(*) as frequency
    from orders
    group by customer_id
),
per_line as (
    select
        customer_id,
        sum(net_amount) as monetary,
        sum(quantity) as units,
        sum(returned_units) as units_returned
    from lines
    group by customer_id
),
as_of as (
    select cast(max(ordered_at) as date) + 1 as as_of_date from orders
)
select
    per_order.customer_id,
    date_diff('day', cast(per_order.last_order_at as date), as_of.as_of_date) as recency_days,
    per_order.frequency,
    per_line.monetary,
    per_line.units_returned / nullif(per_line.units, 0) as return_rate_units
from per_order
inner join per_line on per_order.customer_id = per_line.customer_id
cross join as_of
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path)
    parser.add_argument(
        "--memory-limit", default=os.environ.get("SEGMENTATION_MEMORY_LIMIT", "4GB")
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    con = duckdb.connect(
        ":memory:",
        config={
            "threads": args.threads,
            "memory_limit": args.memory_limit,
            "preserve_insertion_order": False,
        },
    )
    start = time.perf_counter()
    con.execute(FLOOR_SQL.format(raw=args.raw.resolve().as_posix()))
    elapsed = time.perf_counter() - start
    rows = con.execute("select count(*) from customer_rfm_floor").fetchone()[0]
    result = {"customers": int(rows), "sql_s": elapsed}
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
