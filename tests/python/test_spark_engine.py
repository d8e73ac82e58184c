"""The same shop gives the same marts on DuckDB and on Spark (issue: Spark target, same
results on both engines; docs/scale-out.md).

One generated shop (2,000 customers, every catalogued row-level defect planted, every table
in two batch files) is built on DuckDB with `dbt build` (without its tests) and on Spark
with the one command a user runs, `make run ENGINE=spark` (the tests' fit vars on both):
`segmentation spark-build` (the first dbt selection, the fit, the rest of the build with
its data tests, the copy of the public marts), then the publish for BI. Then every table of
both warehouses (staging, intermediate, marts: the public marts, the fit's tables and
everything before them; views are left out, the tables built from them hold what they
give; the Spark tables are read by DuckDB from their Parquet files) must hold the same rows
(tests/python/engines.py: keys, text and integers equal, other numbers within 1e-9
relative or one unit of the 9th decimal where the marts round a double): so the same chosen
k, the same segment for every customer and the same quarantine counts per reason. Only run
metadata differs by design (run ids and start times, the fit's time stamp).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from conftest import BIN, NO_DBT_FILE_LOG, REPO, TEST_FIT_VARS, make_vars, run_dbt
from engines import differences

pytest.importorskip("pyspark", reason="the Spark extra is not installed (make setup-spark)")

RUN_METADATA_TABLES = {"int_run_started"}
RUN_METADATA_COLUMNS = {"run_id", "run_started_at", "fitted_at", "_built_at"}
SCHEMAS = ("staging", "intermediate", "marts")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work = tmp_path_factory.mktemp("spark_engine")
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
    spark_env = {
        "SEGMENTATION_SPARK_WAREHOUSE": str(work / "spark"),
        "SEGMENTATION_SPARK_MEMORY": "2g",
    }
    on_spark = subprocess.run(
        [
            "make", "--no-print-directory",
            # never reinstall the virtualenv from a test
            "-o", ".venv/.installed", "-o", ".venv/.installed-spark",
            "run", "ENGINE=spark", f"RAW={raw}", f"SEGMENTATION_BI={work / 'bi'}",
            make_vars(TEST_FIT_VARS),
        ],
        cwd=REPO,
        env={
            **os.environ,
            **NO_DBT_FILE_LOG,
            **spark_env,
            # keep dbt's artifacts out of the repository
            "DBT_TARGET_PATH": str(work / "target"),
            "DBT_LOG_PATH": str(work / "logs"),
        },
        capture_output=True, text=True, check=False, timeout=1800,
    )  # fmt: skip
    spark_output = on_spark.stdout + on_spark.stderr
    assert on_spark.returncode == 0, spark_output[-6000:]
    (work / "duckdb").mkdir()
    # the same seeds, models and fit on DuckDB (its tests run in the other end-to-end tests)
    on_duckdb = run_dbt(
        ["build", "--exclude", "resource_type:test", "resource_type:unit_test"],
        raw,
        work / "duckdb" / "warehouse.duckdb",
        TEST_FIT_VARS,
    )
    assert on_duckdb.returncode == 0, on_duckdb.output[-4000:]
    return work, spark_env, spark_output, on_duckdb


def test_make_run_engine_spark_runs_the_fit_between_two_selections_and_publishes(built):
    work, _, output, _ = built
    assert "segmentation check" in output  # the preflight ran first
    for model in ("segment_k_selection", "segment_centroids", "segment_stability"):
        assert f"fit: {model}: " in output, output[-4000:]
    published = json.loads((work / "bi" / "_manifest.json").read_text())
    names = set(published["marts"])
    assert {"customer_segments", "segment_profiles", "segment_centroids"} <= names
    for name in names:
        assert (work / "bi" / f"{name}.parquet").is_file(), name
    assert (work / "bi" / "segmentation.duckdb").is_file()
    assert (work / "bi" / "report.html").stat().st_size > 100_000


def test_spark_views_persist_column_docs_that_fit_the_hive_metastore(built):
    """A column comment longer than the Hive metastore's 256 characters made every view
    creation wait ~20 s (the metastore retries the failing insert ten times, holding the
    catalog lock) and end in a view Hive cannot read: the project's get_column_comment_sql
    cuts it at a word. The base views carry descriptions longer than that."""
    work = built[0]
    views = sorted((work / "target" / "run").rglob("base_shop__*.sql"))
    comments = {}
    for path in views:
        sql = path.read_text()
        if "create or replace view" not in sql:
            continue
        column_list = sql[: sql.index("\n  as\n")]
        for name, text in re.findall(r"`(\w+)` comment '((?:[^'\\]|\\.)*)'", column_list):
            comments[(path.stem, name)] = re.sub(r"\\(.)", r"\1", text)
    cut = comments[("base_shop__products", "reject_reason")]
    assert cut.startswith("Why the raw row was not kept") and cut.endswith("..."), cut
    assert max(len(text) for text in comments.values()) <= 256, comments


def spark_table_sql(warehouse: Path, table: str) -> str:
    """A query for a table of the Spark warehouse, read by DuckDB from the table's Parquet
    files (<warehouse>/warehouse/<schema>.db/<table>/): no JVM in the test process. A column
    the fit step added to an incremental table later is null in the older files."""
    schema, name = table.split(".")
    files = warehouse / "warehouse" / f"{schema}.db" / name / "*.parquet"
    return f"select * from read_parquet('{files}', union_by_name = true)"


def test_every_table_is_the_same_on_both_engines(built):
    _, spark_env, _, on_duckdb = built
    warehouse = Path(spark_env["SEGMENTATION_SPARK_WAREHOUSE"])
    schemas = ", ".join(f"'{schema}'" for schema in SCHEMAS)
    found = {}
    with on_duckdb.connect() as con:
        tables = [
            name
            for (name,) in con.sql(
                "select table_schema || '.' || table_name from information_schema.tables "
                # views are left out: the tables built from them hold what they give
                f"where table_schema in ({schemas}) and table_type = 'BASE TABLE' "
                "order by 1"
            ).fetchall()
            if name.split(".")[1] not in RUN_METADATA_TABLES
        ]
        assert "marts.customer_segments" in tables and len(tables) >= 50, tables
        for table in tables:
            left = con.sql(f"select * from {table}").df()
            right = con.sql(spark_table_sql(warehouse, table)).df()
            dropped = [c for c in left.columns if c in RUN_METADATA_COLUMNS]
            found[table] = differences(
                left.drop(columns=dropped), right.drop(columns=dropped, errors="ignore")
            )
            if table.startswith("staging.quarantine_"):
                assert len(left) > 0, f"{table}: no quarantined rows (no defect planted?)"
        chosen = con.sql("select k from marts.segment_k_selection where is_chosen").fetchall()
    assert len(chosen) == 1 and chosen[0][0] >= 2, chosen
    assert not {t: d for t, d in found.items() if d}, "\n".join(
        f"{t}:\n" + "\n".join(d) for t, d in found.items() if d
    )
