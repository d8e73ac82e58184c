"""What the text round-trip of the staging parse macros costs on typed Parquet input.

The `parsed` step of models/staging/shop/base/base_shop__order_items.sql, written out the way
macros/utils/cleaning.sql expands it (every column cast to text, trimmed, then parsed back;
plus every raw column as text for the quarantine), against the same columns cast directly from
their Parquet types. Both are materialised as a table in an in-memory DuckDB with the profile's
settings. A third variant adds the model's dedupe window (row_number over the line key) to
the native columns, to show what that step costs. Evidence for the proposal in
docs/benchmarks.md; not part of the build.

usage: parse_cost.py RAW_DIR [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import duckdb


def clean(col: str) -> str:
    return f"nullif(trim(cast({col} as varchar)), '')"


def parse_integer(col: str) -> str:
    c = clean(col)
    return (
        f"case when try_cast({c} as double) = floor(try_cast({c} as double)) "
        f"then try_cast({c} as bigint) end"
    )


def parse_money(col: str) -> str:
    return f"try_cast({clean(col)} as decimal(18, 4))"


def unparseable(col: str, parsed: str) -> str:
    return f"({clean(col)} is not null and {parsed} is null)"


RAW_COLUMNS = ["order_id", "line_number", "product_id", "quantity", "unit_price"]
RAW_COLUMNS += ["discount_amount"]

AS_TEXT = f"""
select
    {clean("order_id")} as order_id,
    {parse_integer("line_number")} as line_number,
    {clean("product_id")} as product_id,
    {parse_integer("quantity")} as quantity,
    {parse_money("unit_price")} as unit_price,
    coalesce({parse_money("discount_amount")}, 0) as discount_amount,
    {unparseable("line_number", parse_integer("line_number"))} as is_line_number_unparseable,
    {unparseable("quantity", parse_integer("quantity"))} as is_quantity_unparseable,
    {unparseable("unit_price", parse_money("unit_price"))} as is_unit_price_unparseable,
    {unparseable("discount_amount", parse_money("discount_amount"))} as is_discount_unparseable,
    {", ".join(f"cast({c} as varchar) as raw_{c}" for c in RAW_COLUMNS)}
from read_parquet('{{raw}}/order_items.parquet')
"""

NATIVE = """
select
    order_id,
    cast(line_number as bigint) as line_number,
    product_id,
    cast(quantity as bigint) as quantity,
    cast(unit_price as decimal(18, 4)) as unit_price,
    cast(coalesce(discount_amount, 0) as decimal(18, 4)) as discount_amount,
    false as is_line_number_unparseable,
    false as is_quantity_unparseable,
    false as is_unit_price_unparseable,
    false as is_discount_unparseable
from read_parquet('{raw}/order_items.parquet')
"""


#: the dedupe step of the same model (row_number over the line key), on the native columns
NATIVE_DEDUPE = """
select
    *,
    row_number() over (
        partition by order_id, line_number
        order by product_id nulls last, quantity, unit_price, discount_amount
    ) as key_rank
from ({native}) as parsed
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    raw = args.raw.resolve().as_posix()
    con = duckdb.connect(
        ":memory:",
        config={"threads": 2, "memory_limit": "8GB", "preserve_insertion_order": False},
    )
    times: dict[str, list[float]] = {"as_text": [], "native": [], "native_dedupe": []}
    for _ in range(args.runs):
        variants = [
            ("as_text", AS_TEXT),
            ("native", NATIVE),
            ("native_dedupe", NATIVE_DEDUPE.replace("{native}", NATIVE)),
        ]
        for name, sql in variants:
            start = time.perf_counter()
            con.execute(f"create or replace table t_{name} as {sql.format(raw=raw)}")
            times[name].append(time.perf_counter() - start)
            con.execute(f"drop table t_{name}")
    result = {name: statistics.median(v) for name, v in times.items()}
    result["ratio"] = result["as_text"] / result["native"]
    result["runs"] = times
    print(json.dumps(result))


if __name__ == "__main__":
    main()
