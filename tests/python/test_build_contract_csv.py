"""End to end: a raw folder in the contract, as CSV, with leading-zero identifiers and no
optional tables, builds; frequency, spend and recency match an independent computation."""

from __future__ import annotations

import csv
import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES, TEST_FIT_VARS

pytestmark = pytest.mark.e2e


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def make_clean_csv_folder(folder: Path, customers: int = 150, seed: int = 7) -> None:
    """A small valid raw folder: ids with leading zeros, mixed timestamp formats, cancelled
    orders, missing discounts and statuses, prices with a tenth of a penny."""
    rng = random.Random(seed)
    start = datetime(2023, 1, 1)
    customer_rows, order_rows, item_rows = [], [], []
    order_no = 0
    for c in range(customers):
        cid = f"{c:06d}"
        customer_rows.append([cid, f"u{c}@example.com", "A", "B", "", "", "GB", "", ""])
        for _ in range(rng.randint(1, 6)):
            order_no += 1
            oid = f"00{order_no:05d}"
            ts = start + timedelta(minutes=rng.randint(0, 600 * 24 * 60))
            text = ts.strftime("%Y-%m-%dT%H:%M:%SZ") if order_no % 2 else str(ts)
            status = rng.choice(["delivered", "delivered", "shipped", "cancelled", ""])
            order_rows.append([oid, cid, text, status, "web"])
            for line in range(1, rng.randint(2, 5)):
                qty = rng.randint(1, 4)
                price = Decimal(rng.randint(100, 20000)) / 100
                if rng.random() < 0.1:
                    price = Decimal("0.001") * rng.randint(1, 9)
                discount = min(Decimal(rng.randint(0, 100)) / 100, qty * price)
                discount = "" if rng.random() < 0.5 else str(discount)
                item_rows.append([oid, line, f"P{rng.randint(1, 30):03d}", qty, price, discount])
    _write_csv(
        folder / "customers.csv",
        [
            "customer_id",
            "email",
            "first_name",
            "last_name",
            "birth_date",
            "gender",
            "country",
            "signup_at",
            "acquisition_channel",
        ],
        customer_rows,
    )
    _write_csv(
        folder / "orders.csv",
        ["order_id", "customer_id", "ordered_at", "status", "sales_channel"],
        order_rows,
    )
    _write_csv(
        folder / "order_items.csv",
        ["order_id", "line_number", "product_id", "quantity", "unit_price", "discount_amount"],
        item_rows,
    )


def independent_rfm(
    folder: Path, as_of: date | None = None
) -> dict[str, tuple[int, Decimal, int | None]]:
    """Frequency, monetary and recency per customer with a kept order before the analysis
    date (as_of, else the day after the latest order), computed with the csv module only."""

    def parse_ts(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", ""))

    with (folder / "orders.csv").open() as handle:
        orders = list(csv.DictReader(handle))
    with (folder / "order_items.csv").open() as handle:
        items = list(csv.DictReader(handle))
    if as_of is None:
        as_of = max(parse_ts(o["ordered_at"]) for o in orders).date() + timedelta(days=1)
    live = {
        o["order_id"]: o
        for o in orders
        if o["status"] != "cancelled" and parse_ts(o["ordered_at"]).date() < as_of
    }
    result: dict[str, list] = {}
    for order in orders:
        result.setdefault(order["customer_id"], [0, Decimal(0), None])
    for order in live.values():
        entry = result[order["customer_id"]]
        entry[0] += 1
        day = parse_ts(order["ordered_at"]).date()
        entry[2] = day if entry[2] is None or day > entry[2] else entry[2]
    for item in items:
        order = live.get(item["order_id"])
        if order is None:
            continue
        discount = Decimal(item["discount_amount"] or 0)
        value = int(item["quantity"]) * Decimal(item["unit_price"]) - discount
        result[order["customer_id"]][1] += value
    # customer_rfm holds customers with a kept order: those whose orders were all cancelled
    # have no recency or spend to score
    return {
        cid: (freq, money, (as_of - last).days)
        for cid, (freq, money, last) in result.items()
        if freq > 0
    }


def test_csv_folder_with_leading_zeros_matches_independent_rfm(tmp_path, dbt_runner):
    raw = tmp_path / "raw"
    raw.mkdir()
    make_clean_csv_folder(raw)
    run = dbt_runner(["build"], raw, tmp_path / "w.duckdb", data_tests=True)
    assert run.returncode == 0, run.output
    assert "optional raw table 'returns' not found" in run.output

    expected = independent_rfm(raw)
    rows = run.query(
        "select customer_id, frequency, monetary, recency_days from marts.customer_rfm"
    )
    got = {cid: (freq, Decimal(str(money)), rec) for cid, freq, money, rec in rows}
    assert set(got) == set(expected)
    assert all(cid.startswith("0") for cid in got)
    for cid, values in expected.items():
        assert got[cid] == values, cid
    # nothing quarantined: the folder is clean
    assert run.query("select count(*) from staging.quarantine_shop__order_items") == [(0,)]


def test_var_as_of_sets_the_analysis_date(tmp_path, dbt_runner):
    # orders on and after as_of are left out of the metrics; recency counts from as_of (the
    # var made int_analysis_date one row per kept order, which stopped every build)
    raw = tmp_path / "raw"
    raw.mkdir()
    make_clean_csv_folder(raw)
    with (raw / "orders.csv").open() as handle:
        days = sorted({row["ordered_at"][:10] for row in csv.DictReader(handle)})
    as_of = date.fromisoformat(days[len(days) // 2])
    run = dbt_runner(
        ["build", "--select", "+customer_rfm"],
        raw,
        tmp_path / "w.duckdb",
        extra_vars={**TEST_FIT_VARS, "as_of": as_of.isoformat()},
        data_tests=True,
    )
    assert run.returncode == 0, run.output
    assert run.query("select as_of_date from intermediate.int_analysis_date") == [(as_of,)]
    expected = independent_rfm(raw, as_of)
    rows = run.query(
        "select customer_id, frequency, monetary, recency_days from marts.customer_rfm"
    )
    got = {cid: (freq, Decimal(str(money)), rec) for cid, freq, money, rec in rows}
    assert set(got) == set(expected) and len(got) < len(independent_rfm(raw))
    for cid, values in expected.items():
        assert got[cid] == values, cid


def test_missing_required_column_stops_before_any_model(tmp_path, dbt_runner):
    raw = tmp_path / "raw"
    raw.mkdir()
    make_clean_csv_folder(raw, customers=5)
    text = (raw / "orders.csv").read_text().replace("ordered_at", "order_time", 1)
    (raw / "orders.csv").write_text(text)
    (raw / "order_items.csv").unlink()
    run = dbt_runner(["build"], raw, tmp_path / "w.duckdb")
    assert run.returncode != 0
    assert "orders.csv: missing required column(s) ordered_at" in run.output
    assert "missing required table 'order_items'" in run.output
    assert "START sql" not in run.output  # no model ran


def test_a_table_mostly_quarantined_fails_the_build_with_its_reasons(tmp_path, dbt_runner):
    # tiny_csv quarantines 2 of its 5 customers: above the 20% default, the build stops
    # before any mart, and the log names the reasons with example keys
    run = dbt_runner(["build"], FIXTURES / "tiny_csv", tmp_path / "w.duckdb", data_tests=True)
    assert run.returncode != 0
    assert "Failure in test quarantined_share_base_shop__customers" in run.output
    assert "customers: 2 of 5 raw rows (40.0%) are quarantined (the build fails above 20%)" in (
        run.output
    )
    assert "duplicate_customer_id: 1 rows, e.g. 002" in run.output
    assert "missing_customer_id: 1 rows, e.g. (empty)" in run.output
    assert run.query(
        "select count(*) from information_schema.tables where table_schema = 'marts'"
    ) == [(0,)]


def test_tiny_fixture_quarantines_each_bad_row_with_its_reason(tmp_path, dbt_runner):
    run = dbt_runner(
        ["build"],
        FIXTURES / "tiny_csv",
        tmp_path / "w.duckdb",
        extra_vars={"quarantine_error_share": 1.0},  # every kind of bad row, on purpose
        data_tests=True,  # the quarantine report reads their results
    )
    assert run.returncode == 0, run.output
    # above the 1% warn share: a warning with the reasons, not a failure
    assert "Quarantine: orders: 3 of 7 raw rows (42.9%) are quarantined (warning above 1%)" in (
        run.output
    )
    reasons = dict(
        run.query(
            "select reject_reason, count(*) from ("
            " select reject_reason from staging.quarantine_shop__customers union all"
            " select reject_reason from staging.quarantine_shop__orders union all"
            " select reject_reason from staging.quarantine_shop__order_items)"
            " group by 1"
        )
    )
    assert reasons == {
        "missing_customer_id": 1,
        "duplicate_customer_id": 1,
        "duplicate_order_id": 1,
        "unknown_customer": 1,
        "unparseable_ordered_at": 1,
        "negative_unit_price": 1,
        "unknown_order": 1,
        "non_positive_quantity": 1,
        "duplicate_order_line": 1,
    }


def test_a_build_whose_customer_marts_are_empty_fails(tmp_path, dbt_runner):
    # every order cancelled: nothing is quarantined, yet no customer has a purchase
    raw = tmp_path / "raw"
    raw.mkdir()
    make_clean_csv_folder(raw, customers=5)
    with (raw / "orders.csv").open() as handle:
        rows = list(csv.reader(handle))
    for row in rows[1:]:
        row[3] = "cancelled"
    _write_csv(raw / "orders.csv", rows[0], rows[1:])
    run = dbt_runner(["build", "--select", "+customer_rfm"], raw, tmp_path / "w.duckdb")
    assert run.returncode != 0
    assert "Failure in test has_rows_customer_rfm_" in run.output
    assert run.query("select count(*) from marts.customer_rfm") == [(0,)]


def test_a_selection_builds_on_a_fresh_warehouse_without_the_tests_it_cannot_run(
    tmp_path, dbt_runner
):
    # the staging and customer marts alone: the reconciliation tests that also read the
    # quarantine models (not selected, not built) wait for a build that has them
    raw = tmp_path / "raw"
    raw.mkdir()
    make_clean_csv_folder(raw, customers=20)
    run = dbt_runner(["build", "--select", "+customer_rfm"], raw, tmp_path / "w.duckdb")
    assert run.returncode == 0, run.output[-3000:]
    assert "has_rows_customer_rfm" in run.output  # its own tests still run
    assert "source_reconciles_with" not in run.output
    assert run.query("select count(*) from marts.customer_rfm")[0][0] > 0


def test_a_spark_style_folder_stops_the_hook_with_its_name(tmp_path, dbt_runner):
    raw = tmp_path / "raw"
    raw.mkdir()
    make_clean_csv_folder(raw, customers=5)
    parts = raw / "orders.parquet"
    parts.mkdir()
    with duckdb.connect() as con:
        con.execute(
            f"copy (select * from read_csv('{raw / 'orders.csv'}', all_varchar = true)) "
            f"to '{parts / 'part-00000.parquet'}'"
        )
    (raw / "orders.csv").unlink()
    run = dbt_runner(["run", "--select", "base_shop__orders"], raw, tmp_path / "w.duckdb")
    assert run.returncode != 0
    assert f"{raw}/orders.parquet is a folder of part files" in " ".join(run.output.split())
    assert "START sql" not in run.output
