"""The raw contract on the Spark engine (issue: Spark target): the dbt hook register_raw_tables
registers the same raw views on a local Spark as on DuckDB, from the same folder.

One raw folder exercises what differs between the engines' readers: CSV identifiers with
leading zeros, a quoted comma and a quoted line break, an empty field, header names in
another case and with spaces, a batch folder of two CSV files, a typed Parquet file, and
missing optional tables (empty views). Every raw view must hold the same rows on both
engines, row identity (_source_file, _source_row) included. A batch file without a required
column stops the hook on Spark with the file and the column named, as on DuckDB.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import REPO, run_dbt

pytest.importorskip("pyspark", reason="the Spark extra is not installed (make setup-spark)")

TABLES = ["customers", "orders", "order_items", "returns", "products", "sessions"]


def write_raw(raw: Path) -> None:
    raw.mkdir(parents=True)
    (raw / "customers.csv").write_text(
        "Customer_ID , email,first_name,last_name,birth_date,gender,country,signup_at,"
        "acquisition_channel\n"
        '00042,a@example.com,"Ann, Jr.",Lee,1990-01-02,F,GB,2024-01-01 10:00:00,email\n'
        '00043,b@example.com,Bob,"two\nlines",,M,,2024-02-01 11:00:00,\n'
        "0007,c@example.com,Cy,Zed,1985-05-05,,DE,2024-03-01T12:00:00Z,organic\n",
        encoding="utf-8",
    )
    orders = raw / "orders"
    orders.mkdir()
    (orders / "2024-03-01.csv").write_text(
        "order_id,customer_id,ordered_at,status,sales_channel\n"
        "0001,00042,2024-03-01 09:00:00,placed,web\n"
        "0002,0007,2024-03-01 10:00:00,delivered,app\n",
        encoding="utf-8",
    )
    (orders / "2024-03-02.csv").write_text(
        "order_id,customer_id,ordered_at,status,sales_channel\n"
        "0001,00042,2024-03-01 09:00:00,cancelled,web\n"
        "0003,00043,2024-03-02 08:30:00,,\n",
        encoding="utf-8",
    )
    pq.write_table(
        pa.table(
            {
                "ORDER_ID": ["0001", "0002", "0003"],
                "line_number": pa.array([1, 1, 1], pa.int64()),
                "product_id": ["P01", "P02", None],
                "quantity": pa.array([2, 1, 5], pa.int64()),
                "unit_price": pa.array([9.99, 100.0, 0.5], pa.float64()),
            }
        ),
        raw / "order_items.parquet",
    )


@pytest.fixture(scope="module")
def probed(tmp_path_factory):
    """Both raw folders registered on Spark in one process (spark_raw_probe.py): the good
    one, and one whose later orders file lacks a required column. Returns (good raw, bad
    raw, the late file, output folder, dbt's output, report)."""
    work = tmp_path_factory.mktemp("spark_raw")
    good, bad = work / "good", work / "bad"
    write_raw(good)
    write_raw(bad)
    late = bad / "orders" / "2024-03-02.csv"
    late.write_text("order_id,ordered_at\n0004,2024-03-02 09:00:00\n", encoding="utf-8")
    out = work / "out"
    out.mkdir()
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("spark_raw_probe.py")), str(out),
         str(REPO), str(good), str(bad)],
        cwd=work,
        env={
            **os.environ,
            "DBT_PROFILES_DIR": str(REPO / "profiles"),
            "SEGMENTATION_SPARK_WAREHOUSE": str(work / "spark"),
            "SEGMENTATION_SPARK_MASTER": "local[1]",
            "SEGMENTATION_SPARK_MEMORY": "1g",
            "DBT_TARGET_PATH": str(work / "target"),
            "DBT_LOG_PATH": str(work / "logs"),
        },
        capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    report = json.loads((out / "report.json").read_text())
    return good, bad, late, out, output, report


def rows(frame) -> list[tuple]:
    """Rows as comparable tuples: None for nulls, values as text (both engines agree on text;
    Parquet numbers print alike)."""
    out = []
    for record in frame.itertuples(index=False):
        out.append(tuple(None if v is None or v != v else str(v) for v in record))
    return sorted(out, key=lambda row: tuple("" if v is None else v for v in row))


def test_spark_registers_the_same_raw_views_as_duckdb(probed, tmp_path):
    good, _, _, out, output, report = probed
    assert report[0] == {"raw": str(good), "success": True}, output[-3000:]
    assert "optional raw table 'returns' not found" in output
    on_duckdb = run_dbt(
        ["run-operation", "register_raw_tables"], good, tmp_path / "warehouse.duckdb"
    )
    assert on_duckdb.returncode == 0, on_duckdb.output[-3000:]

    with on_duckdb.connect() as con:
        for table in TABLES:
            expected = con.sql(f"select * from raw.{table}").df()
            got = pd.read_parquet(out / "0" / f"{table}.parquet")
            assert list(got.columns) == list(expected.columns), table
            assert rows(got) == rows(expected), table

    customers = pd.read_parquet(out / "0" / "customers.parquet")
    assert sorted(customers["customer_id"]) == ["00042", "00043", "0007"]
    assert "two\nlines" in list(customers["last_name"])
    orders = pd.read_parquet(out / "0" / "orders.parquet")
    files = orders.groupby(orders["_source_file"].map(lambda f: Path(f).name)).size()
    assert list(files.items()) == [("2024-03-01.csv", 2), ("2024-03-02.csv", 2)]


def test_spark_names_the_file_and_the_missing_required_column(probed):
    _, bad, late, _, output, report = probed
    assert report[1] == {"raw": str(bad), "success": False}
    assert f"{late}: missing required column(s) customer_id" in output
    assert not (REPO / "metastore_db").exists() and not (REPO / "spark-warehouse").exists()


def test_spark_settings_come_from_the_profile(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGMENTATION_SPARK_WAREHOUSE", str(tmp_path / "w"))
    from segmentation.spark import spark_conf

    conf = spark_conf()
    assert conf["spark.sql.warehouse.dir"] == f"{tmp_path / 'w'}/warehouse"
    assert (
        f"databaseName={tmp_path / 'w'}/metastore_db"
        in conf["spark.hadoop.javax.jdo.option.ConnectionURL"]
    )
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert shutil.which("java") or os.environ.get("JAVA_HOME"), "Spark needs Java 17"
