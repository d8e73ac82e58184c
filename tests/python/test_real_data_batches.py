"""Batches on real data: the UCI "Online Retail II" file, imported and split by hand (plain SQL
here, not `segmentation generate`'s splitter) into two batch files per table, built batch by
batch with plain `dbt build`, equals a `--full-refresh` of a copy (docs/incremental.md).

The second batch holds what a shop sends the next day: new customers and their orders (the
customers' file as CSV, the rest as Parquet), late returns of orders from the first batch,
first-batch orders re-sent as cancelled, first-batch customers re-sent with another country
and products re-sent with another list price. Skips where the real file is absent
(test_import_online_retail.real_file says where it looks).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from test_import_online_retail import real_file

from segmentation.compare import HISTORY_MARTS, compare_warehouses, table_names
from segmentation.importers.online_retail import import_online_retail

pytestmark = pytest.mark.e2e

#: The second batch starts here: orders, returns and first orders on or after it.
CUT = "timestamp '2010-10-01'"
RESENT_ORDERS = 25
MOVED_CUSTOMERS = 40
REPRICED_PRODUCTS = 10
TABLES = ("customers", "orders", "order_items", "returns", "products")


def split_by_hand(single: Path, first: Path, second: Path) -> None:
    """Each imported table as part-001 (before CUT) and part-002 (from CUT, plus the updates)."""
    for folder in (first, second):
        for table in TABLES:
            (folder / table).mkdir(parents=True)
    src = {table: f"read_parquet('{single / table}.parquet')" for table in TABLES}
    first_order = f"(select customer_id, min(ordered_at) as at from {src['orders']} group by 1)"
    old_orders = f"(select order_id from {src['orders']} where ordered_at < {CUT})"
    parts = {
        ("orders", 1): f"select * from {src['orders']} where ordered_at < {CUT}",
        ("orders", 2): f"""
            select * from {src["orders"]} where ordered_at >= {CUT}
            union all
            select * replace ('cancelled' as status) from (
                select * from {src["orders"]}
                where ordered_at < {CUT} and status <> 'cancelled'
                order by hash(order_id), order_id limit {RESENT_ORDERS}
            )""",
        ("order_items", 1): f"select * from {src['order_items']} semi join {old_orders} "
        "as o using (order_id)",
        ("order_items", 2): f"select * from {src['order_items']} anti join {old_orders} "
        "as o using (order_id)",
        ("returns", 1): f"select * from {src['returns']} where returned_at < {CUT}",
        ("returns", 2): f"select * from {src['returns']} where returned_at >= {CUT}",
        ("customers", 1): f"""
            select c.* from {src["customers"]} as c left join {first_order} as f
                using (customer_id)
            where f.at < {CUT} or f.at is null""",
        ("customers", 2): f"""
            select c.* from {src["customers"]} as c inner join {first_order} as f
                using (customer_id)
            where f.at >= {CUT}
            union all
            select * replace ('Iceland' as country) from (
                select c.* from {src["customers"]} as c inner join {first_order} as f
                    using (customer_id)
                where f.at < {CUT} and c.country <> 'Iceland'
                order by hash(customer_id), customer_id limit {MOVED_CUSTOMERS}
            )""",
        ("products", 1): f"select * from {src['products']}",
        ("products", 2): f"""
            select * replace (list_price + 1 as list_price) from (
                select * from {src["products"]} where list_price is not null
                order by hash(product_id), product_id limit {REPRICED_PRODUCTS}
            )""",
    }
    with duckdb.connect() as con:
        for (table, part), sql in parts.items():
            folder = first if part == 1 else second
            # the second customers' file as CSV: a folder may mix the two formats
            csv = table == "customers" and part == 2
            path = folder / table / f"part-00{part}.{'csv' if csv else 'parquet'}"
            fmt = "format csv, header true" if csv else "format parquet"
            con.execute(f"copy ({sql}) to '{path}' ({fmt})")


def land(batch: Path, raw: Path) -> None:
    for table in TABLES:
        (raw / table).mkdir(parents=True, exist_ok=True)
        for path in (batch / table).iterdir():
            shutil.copy(path, raw / table / path.name)


@pytest.fixture(scope="module")
def real_batches(tmp_path_factory: pytest.TempPathFactory, dbt_runner) -> dict:
    source = real_file()
    work = tmp_path_factory.mktemp("real_batches")
    import_online_retail(source, work / "single")
    split_by_hand(work / "single", work / "b1", work / "b2")
    raw, db = work / "raw", work / "inc" / "w.duckdb"
    db.parent.mkdir()
    land(work / "b1", raw)
    first = dbt_runner(["build"], raw, db)
    assert first.returncode == 0, first.output[-3000:]
    land(work / "b2", raw)
    second = dbt_runner(["build"], raw, db, data_tests=True)
    assert second.returncode == 0, second.output[-3000:]
    full_db = work / "full" / "w.duckdb"
    full_db.parent.mkdir()
    shutil.copy(db, full_db)
    full = dbt_runner(["build", "--full-refresh"], raw, full_db)
    assert full.returncode == 0, full.output[-3000:]
    return {"work": work, "second": second, "full": full}


def test_the_second_batch_is_applied_incrementally(real_batches):
    """The second build recomputed some customers, not all (it did not silently rebuild)."""
    changed, customers = real_batches["second"].query(
        "select (select count(*) from intermediate.int_customers_changed), "
        "(select count(*) from marts.dim_customers)"
    )[0]
    assert 0 < changed < customers


def test_the_updates_of_the_second_batch_win(real_batches):
    second, b2 = real_batches["second"], real_batches["work"] / "b2"
    resent = (
        f"select order_id from read_parquet('{b2}/orders/part-002.parquet') "
        f"where status = 'cancelled' and ordered_at < {CUT}"
    )
    cancelled = second.query(
        "select count(*) filter (where is_cancelled), "
        "count(*) filter (where _source_file like '%/part-002.parquet') "
        f"from staging.stg_shop__orders where order_id in ({resent})"
    )[0]
    assert cancelled == (RESENT_ORDERS, RESENT_ORDERS)
    moved = second.query(
        "select count(*) from staging.stg_shop__customers where country_code = 'ICELAND' "
        "and _source_file like '%/part-002.csv' and customer_id in (select customer_id from "
        f"read_parquet('{b2.parent}/b1/customers/part-001.parquet'))"
    )[0][0]
    assert moved == MOVED_CUSTOMERS
    late = second.query(
        "select count(*) from staging.stg_shop__returns as r "
        "inner join staging.stg_shop__orders as o using (order_id) "
        f"where r.returned_at >= {CUT} and o.ordered_at < {CUT}"
    )[0][0]
    assert late > 0


def test_batch_by_batch_equals_a_full_refresh_of_a_copy(real_batches):
    inc = real_batches["second"].db_path
    full = real_batches["full"].db_path
    marts = [t for t in table_names(inc) if t not in HISTORY_MARTS]
    assert len(marts) > 15
    assert compare_warehouses(inc, full, tables=marts) == []
    staging = [t for t in table_names(inc, schema="staging") if "__" in t]
    assert compare_warehouses(inc, full, schema="staging", tables=staging) == []
