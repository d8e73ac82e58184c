"""`segmentation fit` (src/segmentation/fit_step.py), the parts that need no Spark: which
Python models it runs, in which order, what their code is given, and the errors it gives.
Writing to Spark tables is in test_spark_fit_inputs.py; the whole step in
test_spark_engine.py (`make run ENGINE=spark`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from segmentation.fit_step import FitStepError, ModelContext, load_manifest, python_models


def node(name, language="python", parents=(), config=None):
    return {
        "resource_type": "model", "language": language, "name": name,
        "relation_name": f"marts.{name}", "depends_on": {"nodes": list(parents)},
        "config": config or {},
    }  # fmt: skip


def test_python_models_run_after_the_python_models_they_ref():
    manifest = {
        "nodes": {
            "model.p.a_last": node("a_last", parents=["model.p.z_first", "model.p.sql"]),
            "model.p.z_first": node("z_first", parents=["model.p.sql"]),
            "model.p.sql": node("sql", language="sql"),
        }
    }
    assert [n["name"] for n in python_models(manifest)] == ["z_first", "a_last"]


def test_a_cycle_and_a_manifest_without_python_models_are_named():
    cycle = {"nodes": {"model.p.a": node("a", parents=["model.p.b"])}}
    cycle["nodes"]["model.p.b"] = node("b", parents=["model.p.a"])
    with pytest.raises(FitStepError, match="cycle"):
        python_models(cycle)
    with pytest.raises(FitStepError, match="no Python model"):
        python_models({"nodes": {"model.p.sql": node("sql", language="sql")}})


def test_a_missing_manifest_says_which_selection_to_build_first(tmp_path: Path):
    with pytest.raises(FitStepError, match="--select \\+path:python_models"):
        load_manifest(tmp_path / "manifest.json")


class FakeCatalog:
    def __init__(self, tables):
        self.tables = tables

    def tableExists(self, name):  # noqa: N802 (pyspark's name)
        return name in self.tables


class FakeSpark:
    def __init__(self, tables):
        self.catalog = FakeCatalog(tables)

    def table(self, name):
        return f"table {name}"


def test_the_model_reads_its_config_refs_and_history_as_from_dbt():
    config = {"segmentation_settings": {"segmentation_k_max": "8"}}
    context = ModelContext(
        FakeSpark({"marts.segment_centroids"}),
        node("segment_centroids", config=config),
        {"int_customer_features_current": "intermediate.int_customer_features_current"},
    )
    context.config(materialized="incremental")  # the model's own call: a no-op here
    assert context.config.get("segmentation_settings") == config["segmentation_settings"]
    assert context.ref("int_customer_features_current") == (
        "table intermediate.int_customer_features_current"
    )
    assert context.this == "marts.segment_centroids" and context.is_incremental
    assert not ModelContext(FakeSpark(set()), node("segment_centroids"), {}).is_incremental
    with pytest.raises(FitStepError, match="ref\\('nope'\\)"):
        context.ref("nope")
