"""The staging layer on Spark equals the staging layer on DuckDB (issue: Spark target, same
results on both engines; docs/scale-out.md).

One generated shop (2,000 customers, every catalogued row-level defect planted, every table
in two batch files, CSV and Parquet) is staged on both engines with the same model files:
every base, kept and quarantine model must hold the same rows (tests/python/engines.py:
keys, text and integers equal, money to the cent, doubles to 9 significant digits), so the
quarantine counts per reason agree too.
"""

from __future__ import annotations

import subprocess

import pytest
from conftest import BIN, REPO, run_dbt
from engines import differences

pytest.importorskip("pyspark", reason="the Spark extra is not installed (make setup-spark)")

STAGING = ["--select", "path:models/staging"]


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
        ["run", *STAGING, "--target", "spark"], raw, work / "spark_run" / "unused.duckdb", env=env
    )
    assert on_spark.returncode == 0, on_spark.output[-4000:]
    (work / "duckdb_run").mkdir()
    on_duckdb = run_dbt(["run", *STAGING], raw, work / "duckdb_run" / "warehouse.duckdb")
    assert on_duckdb.returncode == 0, on_duckdb.output[-4000:]
    return raw, env, on_duckdb


def test_every_staging_table_is_the_same_on_both_engines(staged, monkeypatch):
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
                    "select table_name from information_schema.tables "
                    "where table_schema = 'staging' order by 1"
                ).fetchall()
            ]
            assert len(tables) >= 19, tables
            found = {}
            for table in tables:
                left = con.sql(f"select * from staging.{table}").df()
                right = spark.sql(f"select * from staging.{table}").toPandas()
                found[table] = differences(left, right)
                if table.startswith("quarantine_"):
                    assert len(left) > 0, f"{table}: no quarantined rows (no defect planted?)"
    finally:
        spark.stop()
    assert not {t: d for t, d in found.items() if d}, "\n".join(
        f"{t}:\n" + "\n".join(d) for t, d in found.items() if d
    )
