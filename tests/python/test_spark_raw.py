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

import os
import shutil
from pathlib import Path

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


def spark_env(tmp_path: Path) -> dict[str, str]:
    return {
        "SEGMENTATION_SPARK_WAREHOUSE": str(tmp_path / "spark"),
        "SEGMENTATION_SPARK_MASTER": "local[1]",
        "SEGMENTATION_SPARK_MEMORY": "1g",
    }


def register(raw: Path, work: Path, target: str, env: dict[str, str]):
    work.mkdir(parents=True, exist_ok=True)
    return run_dbt(
        ["run-operation", "register_raw_tables", "--target", target],
        raw,
        work / "warehouse.duckdb",
        env=env,
    )


def rows(frame) -> list[tuple]:
    """Rows as comparable tuples: None for nulls, values as text (both engines agree on text;
    Parquet numbers print alike)."""
    out = []
    for record in frame.itertuples(index=False):
        out.append(tuple(None if v is None or v != v else str(v) for v in record))
    return sorted(out, key=lambda row: tuple("" if v is None else v for v in row))


@pytest.fixture
def spark_session_for(monkeypatch):
    """Opens the `spark` target's session (after dbt has exited: Derby allows one process)."""
    opened = []

    def open_for(env: dict[str, str]):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        from segmentation.spark import session

        spark = session()
        opened.append(spark)
        return spark

    yield open_for
    from segmentation.spark import stop

    for spark in opened:
        stop(spark)


def test_spark_registers_the_same_raw_views_as_duckdb(tmp_path, spark_session_for):
    raw = tmp_path / "raw"
    write_raw(raw)
    env = spark_env(tmp_path)

    on_spark = register(raw, tmp_path / "spark_run", "spark", env)
    assert on_spark.returncode == 0, on_spark.output[-3000:]
    assert "optional raw table 'returns' not found" in on_spark.output
    on_duckdb = register(raw, tmp_path / "duckdb_run", "duckdb", {})
    assert on_duckdb.returncode == 0, on_duckdb.output[-3000:]

    spark = spark_session_for(env)
    with on_duckdb.connect() as con:
        for table in TABLES:
            expected = con.sql(f"select * from raw.{table}").df()
            got = spark.sql(f"select * from raw.{table}").toPandas()
            assert list(got.columns) == list(expected.columns), table
            assert rows(got) == rows(expected), table

    customers = spark.sql("select customer_id, last_name from raw.customers").collect()
    assert sorted(row.customer_id for row in customers) == ["00042", "00043", "0007"]
    assert "two\nlines" in [row.last_name for row in customers]
    files = spark.sql(
        "select _source_file, count(*) as n from raw.orders group by 1 order by 1"
    ).collect()
    assert [(Path(row._source_file).name, row.n) for row in files] == [
        ("2024-03-01.csv", 2),
        ("2024-03-02.csv", 2),
    ]


def test_spark_names_the_file_and_the_missing_required_column(tmp_path):
    raw = tmp_path / "raw"
    write_raw(raw)
    late = raw / "orders" / "2024-03-02.csv"
    late.write_text("order_id,ordered_at\n0004,2024-03-02 09:00:00\n", encoding="utf-8")

    result = register(raw, tmp_path / "spark_run", "spark", spark_env(tmp_path))
    assert result.returncode != 0
    assert f"{late}: missing required column(s) customer_id" in result.output
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
