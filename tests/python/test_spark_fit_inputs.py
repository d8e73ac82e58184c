"""The fit's inputs on either engine (issue: Spark target, the engine-agnostic fit): the
functions of segmentation.dbt_models take what dbt.ref() returns on DuckDB (a relation) and
on Spark (a DataFrame), draw the bounded fit sample in the engine by one rule, and give the
same pandas frames. The rule is checked against hashlib, independently of both engines."""

from __future__ import annotations

import hashlib

import duckdb
import numpy as np
import pandas as pd
import pytest

from segmentation.clustering.pipeline import SegmentationConfig
from segmentation.dbt_models import read_history, run_started, sample_features, to_pandas

pytest.importorskip("pyspark", reason="the Spark extra is not installed (make setup-spark)")

FEATURES = ["recency_days", "frequency", "monetary"]


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from pyspark.sql import SparkSession

    from segmentation.spark import stop

    session = (
        SparkSession.builder.master("local[1]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark_warehouse")))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    yield session
    stop(session)


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 400
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(n)],
            "recency_days": rng.integers(0, 900, n).astype("int64"),
            "frequency": rng.integers(1, 20, n).astype("int64"),
            "monetary": rng.gamma(2.0, 80.0, n).round(2),
            "country": ["GB"] * n,
        }
    )


def config(sample_size: int) -> SegmentationConfig:
    return SegmentationConfig(features=FEATURES, sample_size=sample_size, seed=7)


def by_id(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("customer_id").reset_index(drop=True)


def test_both_engines_draw_the_same_bounded_sample_by_the_md5_rule(spark, customers):
    on_duckdb = sample_features(duckdb.connect().from_df(customers), config(50))
    on_spark = sample_features(spark.createDataFrame(customers), config(50))

    assert list(on_duckdb.columns) == ["customer_id", *FEATURES]
    pd.testing.assert_frame_equal(by_id(on_spark), by_id(on_duckdb), check_dtype=False)
    ids = list(customers["customer_id"])
    expected = sorted(ids, key=lambda i: (hashlib.md5(f"{i}-7".encode()).hexdigest(), i))[:50]
    assert sorted(on_duckdb["customer_id"]) == sorted(expected)
    assert sorted(expected) != ids[:50]


def test_under_the_cap_every_customer_comes_through_on_both(spark, customers):
    on_duckdb = sample_features(duckdb.connect().from_df(customers), config(1000))
    on_spark = sample_features(spark.createDataFrame(customers), config(1000))
    assert len(on_duckdb) == len(on_spark) == len(customers)
    pd.testing.assert_frame_equal(by_id(on_spark), by_id(on_duckdb), check_dtype=False)


def test_a_missing_feature_is_named_on_spark(spark, customers):
    frame = spark.createDataFrame(customers.drop(columns=["monetary"]))
    with pytest.raises(ValueError, match=r"no column\(s\) \['monetary'\]"):
        sample_features(frame, config(50))


def test_run_start_history_and_frames_from_spark(spark):
    started = spark.sql(
        "select timestamp'2026-01-02 03:04:05.678901' as run_started_at, 1 as run_id"
    )
    assert str(run_started(started)) == "2026-01-02 03:04:05.678901"
    spark.createDataFrame(pd.DataFrame({"model_version": [1, 2]})).createOrReplaceTempView(
        "earlier_versions"
    )
    history = read_history(spark, "earlier_versions", is_incremental=True)
    assert list(history["model_version"]) == [1, 2]
    assert read_history(spark, "earlier_versions", is_incremental=False) is None
    relation = duckdb.connect().sql("select 1 as a")
    assert to_pandas(relation).equals(to_pandas(spark.sql("select 1 as a")))


def test_the_fit_step_appends_to_a_models_table_as_dbt_incremental_does(spark):
    """First run creates the table (a column with no value is text, as DuckDB makes it); a
    later version is appended, a new column added (on_schema_change: append_new_columns), a
    column the frame lacks stays null."""
    from segmentation.fit_step import write_increment

    first = pd.DataFrame({"model_version": [1, 1], "k": [2, 3], "note": [None, None]})
    assert write_increment(spark, first, "fit_step_test.k_selection") == 2
    later = pd.DataFrame({"k": [4], "model_version": [2], "silhouette": [0.5]})
    assert write_increment(spark, later, "fit_step_test.k_selection") == 1
    table = spark.table("fit_step_test.k_selection")
    assert [(f.name, f.dataType.simpleString()) for f in table.schema.fields] == [
        ("model_version", "bigint"), ("k", "bigint"), ("note", "string"), ("silhouette", "double")
    ]  # fmt: skip
    rows = sorted(tuple(row) for row in table.collect())
    assert rows == [(1, 2, None, None), (1, 3, None, None), (2, 4, None, 0.5)]


def test_marts_are_copied_to_duckdb_through_files_not_through_the_driver(
    spark, tmp_path, monkeypatch
):
    """The copy that publish reads (segmentation.spark.copy_to_duckdb) must not collect a
    table into the Spark driver: at 1M customers a mart's rows were more than
    spark.driver.maxResultSize (1 GB) and the Spark `make run` stopped after a 47-minute
    build. Every way of collecting is made to fail here; values and types still arrive:
    instants as UTC timestamps, exact decimals, ids with leading zeros, nulls, dates."""
    from segmentation.spark import copy_to_duckdb

    spark.sql("create database if not exists copy_test")
    spark.sql("drop table if exists copy_test.mart")
    spark.sql("drop table if exists copy_test.empty")
    spark.sql(
        "create table copy_test.mart using parquet as select * from values"
        " ('007', timestamp'2026-03-01 23:30:00', cast(12.3456 as decimal(18,4)),"
        "  date'2026-02-28', true, 3),"
        " ('010', null, null, null, null, null) as t(customer_id, scored_at, monetary,"
        "  first_order_date, is_active, k)"
    )
    spark.sql("create table copy_test.empty using parquet as select 1 as k where false")

    def collecting(*args, **kwargs):
        raise AssertionError("a table was collected into the Spark driver")

    dataframe = type(spark.range(1))  # the session's DataFrame class (pyspark's classic one)
    for method in ("collect", "toArrow", "toPandas", "toLocalIterator", "take", "tail"):
        monkeypatch.setattr(dataframe, method, collecting)
    db = tmp_path / "marts.duckdb"
    copied = copy_to_duckdb(spark, [("copy_test", "mart"), ("copy_test", "empty")], db)
    assert copied == [("copy_test.mart", 2), ("copy_test.empty", 0)]
    con = duckdb.connect(str(db), read_only=True)
    types = con.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_name = 'mart' order by ordinal_position"
    ).fetchall()
    assert types == [
        ("customer_id", "VARCHAR"), ("scored_at", "TIMESTAMP"), ("monetary", "DECIMAL(18,4)"),
        ("first_order_date", "DATE"), ("is_active", "BOOLEAN"), ("k", "INTEGER"),
    ]  # fmt: skip
    rows = con.execute("select * from copy_test.mart order by customer_id").fetchall()
    assert [tuple(map(str, row)) for row in rows] == [
        ("007", "2026-03-01 23:30:00", "12.3456", "2026-02-28", "True", "3"),
        ("010", "None", "None", "None", "None", "None"),
    ]
    assert not list(tmp_path.glob(".spark-copy-*")), "the scratch Parquet files are removed"
