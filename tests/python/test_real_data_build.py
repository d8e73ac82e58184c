"""End to end on real data: import the UCI "Online Retail II" file, `dbt build` the imported
folder, and check that every customer with a kept order gets exactly one segment and that the
warehouse keeps the published totals.

The file is looked for in $ONLINE_RETAIL_DIR or the repository's data/online_retail_ii/
(test_import_online_retail.real_file); where it is absent the tests skip and say where they
looked. CI has it. Both published layouts are built:
"Online Retail II" (Parquet, as distributed) and "Online Retail" (CSV with M/D/YYYY H:MM dates
and float customer ids), converted from the same file.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from test_import_online_retail import PUBLISHED, check_published_counts, real_file

from segmentation.importers.online_retail import import_online_retail

pytestmark = pytest.mark.e2e

# A quick build: fewer bootstrap resamples than the default; everything else as configured.
FAST_VARS = {"segmentation_bootstrap": 10}


def to_old_layout_csv(source: Path, csv: Path) -> Path:
    """The real file rewritten in the "Online Retail" layout, as the UCI CSV export has it."""
    duckdb.sql(
        f"""
        COPY (
            SELECT Invoice AS InvoiceNo, StockCode, Description, Quantity,
                   strftime(strptime(InvoiceDate, '%Y-%m-%d %H:%M:%S'), '%-m/%-d/%Y %-H:%M')
                       AS InvoiceDate,
                   Price AS UnitPrice, CAST("Customer ID" AS DOUBLE) AS CustomerID, Country
            FROM read_parquet('{source}')
        ) TO '{csv}' (HEADER)
        """
    )
    return csv


def import_and_build(source: Path, work: Path, dbt_runner):
    """Import source into work/raw (checking the published counts), then `dbt build` it."""
    raw = work / "raw"
    import_online_retail(source, raw)
    check_published_counts(raw)
    run = dbt_runner(
        ["build"], raw, work / "warehouse.duckdb", extra_vars=FAST_VARS, data_tests=True
    )
    assert run.returncode == 0, run.output[-6000:]
    return raw, run


@pytest.fixture(scope="module")
def real_build(tmp_path_factory: pytest.TempPathFactory, dbt_runner):
    """The real file ("Online Retail II" layout, Parquet), imported and built once."""
    source = real_file()
    return import_and_build(source, tmp_path_factory.mktemp("real_build"), dbt_runner)


def check_warehouse(raw: Path, run) -> None:
    """Every customer with a kept order has exactly one segment; the totals survive the build."""
    orders = raw / "orders.parquet"
    (unsegmented,) = run.query(
        f"""
        SELECT count(DISTINCT o.customer_id)
        FROM read_parquet('{orders}') AS o
        LEFT JOIN marts.customer_segments AS s USING (customer_id)
        WHERE s.customer_id IS NULL OR s.segment_id IS NULL
        """
    )[0]
    assert unsegmented == 0
    rows, customers, segments = run.query(
        "SELECT count(*), count(DISTINCT customer_id), count(DISTINCT segment_id) "
        "FROM marts.customer_segments"
    )[0]
    assert rows == customers == PUBLISHED["customers_with_orders"]
    assert segments >= 2
    (extra,) = run.query(
        f"SELECT count(*) FROM marts.customer_segments WHERE customer_id NOT IN "
        f"(SELECT customer_id FROM read_parquet('{orders}'))"
    )[0]
    assert extra == 0

    items, gross = run.query("SELECT count(*), sum(gross_amount) FROM marts.fct_order_items")[0]
    assert items == PUBLISHED["order_items"]
    # exact sum 8,832,003.274 (some prices are 0.001); published rounded to cents
    assert round(gross, 2) == Decimal("8832003.27")
    assert run.query("SELECT count(*) FROM marts.fct_orders")[0][0] == PUBLISHED["orders"]
    assert (
        run.query("SELECT count(*) FROM marts.customer_rfm")[0][0]
        == PUBLISHED["customers_with_orders"]
    )
    # dim_segments counts the same customers as customer_segments
    assert run.query("SELECT sum(customers) FROM marts.dim_segments")[0][0] == rows
    # nothing was quarantined: the importer writes only rows that satisfy the contract
    for table in ["customers", "orders", "order_items", "returns", "products"]:
        quarantined = run.query(f"SELECT count(*) FROM staging.quarantine_shop__{table}")[0][0]
        assert quarantined == 0, table


def test_real_data_builds_and_every_customer_gets_a_segment(real_build) -> None:
    raw, run = real_build
    check_warehouse(raw, run)
    returns = run.query("SELECT count(*) FROM marts.fct_returns")[0][0]
    assert returns == check_published_counts(raw)["outcomes"]["cancellation_matched"]


def test_real_data_old_layout_csv_builds_the_same_segments(
    real_build, tmp_path: Path, dbt_runner
) -> None:
    """The "Online Retail" CSV layout of the same file builds end to end, to the same result."""
    csv = to_old_layout_csv(real_file(), tmp_path / "online_retail.csv")
    raw, run = import_and_build(csv, tmp_path / "old", dbt_runner)
    check_warehouse(raw, run)
    _, first = real_build
    mine = run.query("SELECT customer_id, segment_id FROM marts.customer_segments ORDER BY 1")
    theirs = first.query("SELECT customer_id, segment_id FROM marts.customer_segments ORDER BY 1")
    assert mine == theirs
