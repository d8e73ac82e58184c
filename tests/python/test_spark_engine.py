"""What runs on Spark equals DuckDB (issue: Spark target, same results on both engines;
docs/scale-out.md): the staging layer and the customer core.

One generated shop (2,000 customers, every catalogued row-level defect planted, every table
in two batch files, CSV and Parquet) is built on both engines with the same model files, up
to the segmentation features: every base, kept and quarantine model and every intermediate
model (order lines, daily activity, the metrics and features of today and of each month
end) must hold the same rows (tests/python/engines.py: keys, text and integers equal, money
to the cent, doubles to 9 significant digits), so the quarantine counts per reason agree
too. Run metadata (int_run_started) differs by design.
"""

from __future__ import annotations

import subprocess

import pytest
from conftest import BIN, REPO, run_dbt
from engines import differences

pytest.importorskip("pyspark", reason="the Spark extra is not installed (make setup-spark)")

# everything before the fit (the dbt Python models do not run on dbt-spark's session method)
SELECT = [
    "--select", "path:models/staging", "+int_customer_features_current",
    "+int_returns_joined_to_order_items", "+int_sessions_aggregated_to_customers",
    "+int_orders_summarised",
]  # fmt: skip
RUN_METADATA = {"int_run_started"}


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    work = tmp_path_factory.mktemp("spark_staging")
    raw = work / "raw"
    generated = subprocess.run(
        [
            str(BIN / "segmentation"), "generate", "--customers", "2000", "--seed", "5",
            "--out", str(raw), "--truth", str(work / "truth"), "--defects",
            "--split-at", "2026-06-01",
        ],
        capture_output=True, text=True, check=False, cwd=REPO,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stderr[-2000:]
    env = {"SEGMENTATION_SPARK_WAREHOUSE": str(work / "spark"), "SEGMENTATION_SPARK_MEMORY": "2g"}
    (work / "spark_run").mkdir()
    on_spark = run_dbt(
        ["run", *SELECT, "--target", "spark"], raw, work / "spark_run" / "unused.duckdb", env=env
    )
    assert on_spark.returncode == 0, on_spark.output[-4000:]
    (work / "duckdb_run").mkdir()
    on_duckdb = run_dbt(["run", *SELECT], raw, work / "duckdb_run" / "warehouse.duckdb")
    assert on_duckdb.returncode == 0, on_duckdb.output[-4000:]
    return raw, env, on_duckdb


def test_every_table_before_the_fit_is_the_same_on_both_engines(staged, monkeypatch):
    _, env, on_duckdb = staged
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from segmentation.spark import session

    spark = session()
    try:
        with on_duckdb.connect() as con:
            tables = [
                name
                for (name,) in con.sql(
                    "select table_schema || '.' || table_name from information_schema.tables "
                    "where table_schema in ('staging', 'intermediate') order by 1"
                ).fetchall()
                if name.split(".")[1] not in RUN_METADATA
            ]
            assert len(tables) >= 30, tables
            assert "intermediate.int_customer_daily_activity" in tables
            found = {}
            for table in tables:
                left = con.sql(f"select * from {table}").df()
                right = spark.sql(f"select * from {table}").toPandas()
                found[table] = differences(left, right)
                if table.startswith("staging.quarantine_"):
                    assert len(left) > 0, f"{table}: no quarantined rows (no defect planted?)"
    finally:
        spark.stop()
    assert not {t: d for t, d in found.items() if d}, "\n".join(
        f"{t}:\n" + "\n".join(d) for t, d in found.items() if d
    )
