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
