"""`segmentation fit` (src/segmentation/fit_step.py), the parts that need no Spark: which
Python models it runs, in which order, what their code is given, and the errors it gives;
and `segmentation spark-build`'s order of steps (dbt, Spark and the fit replaced).
Writing to Spark tables is in test_spark_fit_inputs.py; the whole step in
test_spark_engine.py (`make run ENGINE=spark`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from segmentation.fit_step import FitStepError, ModelContext, load_manifest, python_models


def node(name, language="python", parents=(), config=None):
    return {
        "resource_type": "model", "language": language, "name": name,
        "relation_name": f"`marts`.`{name}`", "depends_on": {"nodes": list(parents)},
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


class _Result:
    def __init__(self, success: bool, exception: Exception | None = None):
        self.success, self.exception = success, exception


def _fake_spark_build(
    monkeypatch, failing: str | None = None, raising: Exception | None = None
) -> list[tuple]:
    """build_on_spark with dbt, Spark, the fit and the copy replaced by recorders; the dbt
    command whose first selector is `failing` fails (with dbt's exception `raising`, if
    given: dbt could not run it)."""
    import dbt.cli.main

    from segmentation import fit_step, publish, spark

    calls: list[tuple] = []

    class Runner:
        def invoke(self, command):
            calls.append(("dbt", command[0], command[command.index("--select") + 1]
                          if "--select" in command else None,
                          os.environ.get("SEGMENTATION_RUN_STEP")))  # fmt: skip
            if failing is not None and failing in command:
                return _Result(False, raising)
            return _Result(True)

    monkeypatch.setattr(dbt.cli.main, "dbtRunner", Runner)
    monkeypatch.setattr(spark, "session", lambda: "session")
    monkeypatch.setattr(spark, "stop", lambda s: calls.append(("stop", s)))
    monkeypatch.setattr(fit_step, "run_fit", lambda m, p, s: calls.append(("fit", s)))
    monkeypatch.setattr(publish, "copy_from_spark", lambda m, db, s: calls.append(("copy", db, s)))
    return calls


def test_spark_build_fits_between_the_two_selections_in_one_session(monkeypatch):
    from segmentation.spark_build import build_on_spark, dbt_steps

    before, after = dbt_steps(["--vars", "{a: 1}"])
    steps = [*before.values(), *after.values()]
    assert all(c[1:5] == ["--target", "spark", "--vars", "{a: 1}"] for c in steps)
    calls = _fake_spark_build(monkeypatch)
    monkeypatch.delenv("SEGMENTATION_RUN_STEP", raising=False)
    assert build_on_spark([], Path("m.json"), Path("."), Path("marts.duckdb")) == 0
    # the steps after the fit carry on the run that int_run_started began before it
    assert calls == [
        ("dbt", "build", "+path:python_models", None),
        ("fit", "session"),
        ("dbt", "build", None, "after-fit"),  # everything but +path:python_models
        ("dbt", "test", "path:python_models", "after-fit"),
        ("copy", Path("marts.duckdb"), "session"),
        ("stop", "session"),
    ]
    assert "SEGMENTATION_RUN_STEP" not in os.environ  # only for those steps


def test_spark_build_stops_at_the_first_red_step(monkeypatch, capsys):
    from segmentation.spark_build import build_on_spark

    calls = _fake_spark_build(monkeypatch, failing="+path:python_models")
    assert build_on_spark([], Path("m.json"), Path("."), Path("marts.duckdb")) == 1
    assert calls == [("dbt", "build", "+path:python_models", None), ("stop", "session")]
    assert "error: spark-build: dbt build (before the fit) failed" in capsys.readouterr().err


def test_spark_build_reports_a_dbt_step_that_could_not_run_on_stderr(monkeypatch, capsys):
    from segmentation.spark_build import build_on_spark

    calls = _fake_spark_build(
        monkeypatch, failing="+path:python_models", raising=RuntimeError("no profile 'spark'")
    )
    assert build_on_spark([], Path("m.json"), Path("."), None) == 2
    assert calls == [("dbt", "build", "+path:python_models", None), ("stop", "session")]
    err = capsys.readouterr().err
    assert "dbt build (before the fit) failed: no profile 'spark'" in err
