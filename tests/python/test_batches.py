"""Raw tables as folders of batch files (docs/incremental.md).

`segmentation generate --split-at/--daily` writes the demo data as dated batch files with
updates in later files (orders re-sent with their final status, customers re-sent with a
changed country). The latest version of every row is the generated row, so a build of the
batch folders must give exactly the public marts of a build of the single files, with every
earlier version superseded (neither kept nor quarantined) and source reconciliation proving
raw rows = kept + quarantined + superseded.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from segmentation.batches import batch_boundaries, split_into_batches
from segmentation.compare import (
    HISTORY_MARTS,
    RUN_METADATA_COLUMNS,
    compare_warehouses,
    table_names,
)
from segmentation.generate import DEFAULT_END_DATE, generate

CUSTOMERS = 1500
SPLIT = dt.date(2026, 6, 1)
TABLES = ("customers", "orders", "order_items", "returns", "products", "sessions")
KEYS = {
    "customers": "customer_id",
    "orders": "order_id",
    "order_items": "order_id, line_number",
    "returns": "return_id",
    "products": "product_id",
    "sessions": "session_id",
}


@pytest.fixture(scope="module")
def raw_pair(tmp_path_factory) -> tuple[Path, Path]:
    """The same generated shop as single files and as batch folders (a split plus 2 days)."""
    root = tmp_path_factory.mktemp("batches")
    single, batched = root / "single", root / "batched"
    generate(CUSTOMERS, out_dir=single, truth_dir=root / "truth")
    shutil.copytree(single, batched)
    days = batch_boundaries(DEFAULT_END_DATE, [SPLIT], daily=2)
    split_into_batches(batched, days, DEFAULT_END_DATE)
    return single, batched


@pytest.fixture(scope="module")
def built_pair(raw_pair, dbt_runner, tmp_path_factory):
    single, batched = raw_pair
    root = tmp_path_factory.mktemp("batch_builds")
    runs = []
    for name, raw in (("single", single), ("batched", batched)):
        (root / name).mkdir()
        # the data tests (reconciliation of kept, superseded and quarantined rows) on the
        # batches; the single-file build is what they are compared with
        run = dbt_runner(["build"], raw, root / name / "w.duckdb", data_tests=name == "batched")
        assert run.returncode == 0, run.output[-3000:]
        runs.append(run)
    return runs


def test_split_writes_one_dated_file_per_batch_and_loses_no_row(raw_pair):
    single, batched = raw_pair
    expected_names = [
        "2026-06-01.parquet",
        "2026-09-29.parquet",
        "2026-09-30.parquet",
        "2026-10-01.parquet",
    ]
    with duckdb.connect() as con:
        for table in TABLES:
            assert not (batched / f"{table}.parquet").exists()
            assert sorted(p.name for p in (batched / table).iterdir()) == expected_names
            # the latest version of every key is the single file's row, and every key is there
            key = KEYS[table]
            latest = (
                f"select * exclude (_file, _rank) from (select *, row_number() over ("
                f"partition by {key} order by _file desc) as _rank from read_parquet("
                f"'{batched / table}/*.parquet', filename = '_file')) where _rank = 1"
            )
            original = f"select * from read_parquet('{single / table}.parquet')"
            for a, b in ((latest, original), (original, latest)):
                assert con.sql(f"select count(*) from ({a} except all {b})").fetchall() == [(0,)]


def test_split_resends_orders_and_customers_as_updates(raw_pair):
    _, batched = raw_pair
    with duckdb.connect() as con:
        orders = con.sql(
            f"select order_id, list(status order by filename) as statuses, "
            f"list(filename order by filename) as files "
            f"from read_parquet('{batched}/orders/*.parquet', filename = true) "
            "group by order_id having count(*) > 1"
        ).fetchall()
        customers = con.sql(
            f"select customer_id, list(country order by filename) from read_parquet("
            f"'{batched}/customers/*.parquet', filename = true) group by 1 having count(*) > 1"
        ).fetchall()
        late_returns = con.sql(
            f"select count(*) from read_parquet('{batched}/returns/*.parquet', filename = true) r "
            f"join read_parquet('{batched}/orders/2026-06-01.parquet') o using (order_id) "
            "where not r.filename.ends_with('2026-06-01.parquet')"
        ).fetchall()[0][0]
    assert orders, "no order was re-sent"
    for _, statuses, files in orders:
        assert statuses[0] == "placed" and statuses[-1] in ("delivered", "cancelled")
        assert len(set(files)) == len(files)  # each version in a later file
    assert any(statuses[-1] == "cancelled" for _, statuses, _ in orders)
    assert customers and all(countries[0] != countries[-1] for _, countries in customers)
    assert late_returns > 0  # returns of orders from the first batch land in later ones


def test_split_rejects_a_boundary_after_the_history():
    with pytest.raises(ValueError, match="after the last day of history"):
        batch_boundaries(DEFAULT_END_DATE, [DEFAULT_END_DATE + dt.timedelta(days=1)])


def test_batch_build_equals_the_single_file_build(built_pair):
    single, batched = built_pair
    assert compare_warehouses(single.db_path, batched.db_path) == []
    # the staging marts the users query too: kept rows equal, whatever file they came from
    kept = [f"stg_shop__{t}" for t in TABLES]
    assert (
        compare_warehouses(
            single.db_path,
            batched.db_path,
            schema="staging",
            tables=kept,
            ignore_columns=RUN_METADATA_COLUMNS | {"_source_file"},
        )
        == []
    )


def test_earlier_versions_are_superseded_not_quarantined(built_pair):
    _, batched = built_pair
    for table, key in (("orders", "order_id"), ("customers", "customer_id")):
        rows = batched.query(
            f"select count(*), count(distinct {key}), bool_and(superseded_by_file > _source_file)"
            f" from staging.base_shop__{table} where superseded_by_file is not null"
        )
        superseded, keys, later = rows[0]
        assert superseded > 0 and superseded == keys and later
        quarantined = batched.query(f"select count(*) from staging.quarantine_shop__{table}")
        assert quarantined == [(0,)]
    # the source reconciliation tests ran in the build and passed; show they count them
    raw, kept, superseded = batched.query(
        "select (select count(*) from raw.orders), (select count(*) from staging.stg_shop__orders),"
        " (select count(*) from staging.base_shop__orders where superseded_by_file is not null)"
    )[0]
    assert raw == kept + superseded


def test_batches_with_defects_quarantine_per_file_and_reconcile(tmp_path, dbt_runner):
    from segmentation.defects import apply_after_generate

    raw = tmp_path / "raw"
    generate(CUSTOMERS, out_dir=raw, truth_dir=tmp_path / "truth")
    apply_after_generate(raw, tmp_path / "truth")
    split_into_batches(raw, [SPLIT], DEFAULT_END_DATE)
    assert (raw / "customers" / "2026-06-01.csv").is_file()  # CSV tables stay CSV
    run = dbt_runner(["build"], raw, tmp_path / "w.duckdb", data_tests=True)
    assert run.returncode == 0, run.output[-3000:]
    assert "reconciles_with" in run.output
    files = {
        row[0]
        for table in TABLES
        for row in run.query(f"select distinct source_file from staging.quarantine_shop__{table}")
    }
    assert files and all(f.startswith(f"{raw}/") and f.split("/")[-2] in TABLES for f in files)


def test_hook_stops_on_a_table_given_as_file_and_batch_folder(tmp_path, raw_pair, dbt_runner):
    single, batched = raw_pair
    raw = tmp_path / "raw"
    shutil.copytree(batched, raw)
    shutil.copy(single / "orders.parquet", raw / "orders.parquet")
    run = dbt_runner(["run", "--select", "base_shop__orders"], raw, tmp_path / "w.duckdb")
    assert run.returncode != 0
    text = " ".join(run.output.split())
    assert f"ambiguous table 'orders': both {raw}/orders.parquet and the batch folder" in text
    assert "START sql" not in run.output


def test_hook_names_the_batch_file_missing_a_required_column(tmp_path, raw_pair, dbt_runner):
    _, batched = raw_pair
    raw = tmp_path / "raw"
    shutil.copytree(batched, raw)
    bad = raw / "orders" / "2026-09-30.parquet"
    with duckdb.connect() as con:
        con.execute(
            f"copy (select * exclude (ordered_at) from read_parquet('{bad}')) to '{bad}.tmp' "
            "(format parquet)"
        )
    Path(f"{bad}.tmp").replace(bad)
    run = dbt_runner(["run", "--select", "base_shop__orders"], raw, tmp_path / "w.duckdb")
    assert run.returncode != 0
    assert f"{bad}: missing required column(s) ordered_at" in " ".join(run.output.split())


STATE_MARTS = (
    "segment_centroids",
    "segment_k_selection",
    "segment_stability",
    "segment_fit_sample",
)


def test_full_refresh_rebuilds_from_the_files_and_keeps_the_fitted_models(
    built_pair, raw_pair, dbt_runner, tmp_path
):
    _, batched = built_pair
    db = tmp_path / "w.duckdb"
    shutil.copy(batched.db_path, db)
    run = dbt_runner(["build", "--full-refresh"], raw_pair[1], db)
    assert run.returncode == 0, run.output[-3000:]
    # the fitted state is kept whole (nothing refitted: same rows, same fit times)
    assert (
        compare_warehouses(
            batched.db_path, db, tables=list(STATE_MARTS), ignore_columns=frozenset()
        )
        == []
    )
    # the history of builds grows by this build instead of starting over
    assert run.query("select count(*) from marts.segmentation_runs") == [(2,)]
    # everything else is rebuilt from the files and equals the first build
    others = [t for t in table_names(db) if t not in HISTORY_MARTS]
    assert compare_warehouses(batched.db_path, db, tables=others) == []


def _tiny_raw_with_customer_batches(
    tmp_path: Path, second_file_sql: str, first_file_sql: str = "select * from c"
) -> Path:
    """The tiny CSV fixture with customers as a batch folder of two Parquet files, written by
    the two queries over the fixture's customers (table c, all text)."""
    from conftest import FIXTURES

    raw = tmp_path / "raw"
    shutil.copytree(FIXTURES / "tiny_csv", raw)
    (raw / "customers").mkdir()
    with duckdb.connect() as con:
        con.execute(
            f"create table c as select * from read_csv('{raw / 'customers.csv'}', "
            "all_varchar = true)"
        )
        for name, sql in (("1.parquet", first_file_sql), ("2.parquet", second_file_sql)):
            con.execute(f"copy ({sql}) to '{raw / 'customers' / name}' (format parquet)")
    (raw / "customers.csv").unlink()
    return raw


def test_a_column_typed_differently_in_one_batch_file_leaves_the_others_as_they_are(
    tmp_path, dbt_runner
):
    # integer ids, then a file whose ids are floats (as pandas writes an id column with a
    # missing value): a plain union would turn every id into a float ('1.0'); the hook reads
    # that column as text in every file instead
    raw = _tiny_raw_with_customer_batches(
        tmp_path,
        first_file_sql="select * replace (cast(row_number() over () as bigint) as customer_id) "
        "from c",
        second_file_sql="select * replace (cast(900 + row_number() over () as double) "
        "as customer_id) from c limit 2",
    )
    run = dbt_runner(["run", "--select", "base_shop__products"], raw, tmp_path / "w.duckdb")
    assert run.returncode == 0, run.output[-3000:]
    rows = run.query("select customer_id, _source_file from raw.customers")
    assert sorted(r[0] for r in rows if r[1].endswith("1.parquet")) == ["1", "2", "3", "4", "5"]
    assert {r[0] for r in rows if r[1].endswith("2.parquet")} == {"901.0", "902.0"}


def test_a_batch_file_name_with_a_quote_stops_the_hook(tmp_path, dbt_runner):
    raw = _tiny_raw_with_customer_batches(tmp_path, "select * from c limit 1")
    (raw / "customers" / "2.parquet").rename(raw / "customers" / "o'brien.parquet")
    run = dbt_runner(["run", "--select", "base_shop__products"], raw, tmp_path / "w.duckdb")
    assert run.returncode != 0
    assert "o'brien.parquet: a batch file name may not contain" in " ".join(run.output.split())
