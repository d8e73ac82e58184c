"""`segmentation fit`: the dbt Python models of python_models/ as a step between two dbt
selections, for a target whose dbt adapter cannot run Python models (dbt-spark's session
method; docs/scale-out.md).

`make run ENGINE=spark` builds everything the fit reads (`--select +path:python_models
--exclude path:python_models`), then this step, then the rest. The step reads dbt's
manifest of that first build for each Python model's rendered config (the segmentation
vars), its table and the tables of its refs, and calls the model's own ``model(dbt,
session)`` function with a small stand-in for dbt's context: ``dbt.ref()`` gives a Spark
DataFrame, ``dbt.this`` the model's table, ``dbt.is_incremental`` whether it exists. The
frame it returns is appended to that table (created on the first run) as dbt's incremental
materialization would, so the refit policy, alignment and model versions behave as on
DuckDB. The models run in their dependency order (k selection, centroids, then stability
and the fit sample).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

logger = logging.getLogger(__name__)


class FitStepError(RuntimeError):
    """The manifest or the warehouse is not what the fit step needs; the message says why."""


def load_manifest(path: Path) -> dict:
    if not path.is_file():
        raise FitStepError(
            f"{path} does not exist: run the first dbt selection before the fit step "
            "(dbt build --target spark --select +path:python_models --exclude path:python_models)"
        )
    return json.loads(path.read_text())


def python_models(manifest: dict) -> list[dict]:
    """The manifest's Python models, each after the Python models it refs."""
    nodes = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node.get("resource_type") == "model" and node.get("language") == "python"
    }
    if not nodes:
        raise FitStepError("the manifest has no Python model (python_models/ not parsed?)")
    ordered: list[dict] = []
    done: set[str] = set()

    def visit(uid: str, path: tuple[str, ...]) -> None:
        if uid in done:
            return
        if uid in path:
            raise FitStepError(f"Python models ref each other in a cycle: {' -> '.join(path)}")
        for parent in nodes[uid]["depends_on"]["nodes"]:
            if parent in nodes:
                visit(parent, (*path, uid))
        done.add(uid)
        ordered.append(nodes[uid])

    for uid in sorted(nodes):
        visit(uid, ())
    return ordered


def table_name(relation_name: str) -> str:
    """`schema`.`table` as the manifest quotes it -> schema.table, as Spark's catalog and
    DataFrame writers take it (the project's names need no quoting)."""
    return relation_name.replace("`", "")


def relation_names(manifest: dict) -> dict[str, str]:
    """Model name -> the table dbt built it as on the manifest's target (schema.table)."""
    return {
        node["name"]: table_name(node["relation_name"])
        for node in manifest["nodes"].values()
        if node.get("resource_type") in ("model", "seed", "snapshot") and node.get("relation_name")
    }


class _Config:
    """dbt.config: the model's own ``dbt.config(...)`` call is already in the manifest."""

    def __init__(self, config: dict[str, Any]):
        self._config = config

    def __call__(self, **_: Any) -> None:
        return None

    def get(self, key: str, default: Any = None) -> Any:
        return self._config.get(key, default)


class ModelContext:
    """What a Python model reads from ``dbt``, served by a SparkSession."""

    def __init__(self, spark: Any, node: dict, relations: dict[str, str]):
        self._spark = spark
        self._relations = relations
        self.config = _Config(node.get("config", {}))
        self.this = table_name(node["relation_name"])
        self.is_incremental = table_exists(spark, self.this)

    def ref(self, *names: str, **_: Any) -> Any:
        name = names[-1]
        if name not in self._relations:
            raise FitStepError(f"ref('{name}') is not a model of this project's manifest")
        return self._spark.table(self._relations[name])


def table_exists(spark: Any, relation: str) -> bool:
    return bool(spark.catalog.tableExists(relation))


def load_model_function(path: Path) -> Callable[[Any, Any], pd.DataFrame]:
    spec = importlib.util.spec_from_file_location(f"python_model_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise FitStepError(f"cannot load the Python model {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.model


def _arrow(frame: pd.DataFrame) -> pa.Table:
    """The model's frame as Arrow; a column with no value at all is text (as DuckDB makes it)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    fields = [
        pa.field(field.name, pa.string()) if pa.types.is_null(field.type) else field
        for field in table.schema
    ]
    return table.cast(pa.schema(fields))


def write_increment(spark: Any, frame: pd.DataFrame, relation: str) -> int:
    """Append the model's new rows to its table (created on the first run), as dbt's
    incremental materialization does: new columns are added (on_schema_change:
    append_new_columns), missing ones stay null, values take the table's types."""
    from pyspark.sql import functions as F

    schema_name = relation.split(".")[0]
    spark.sql(f"create database if not exists {schema_name}")
    increment = spark.createDataFrame(_arrow(frame))
    if not table_exists(spark, relation):
        increment.write.format("parquet").saveAsTable(relation)
        return len(frame)
    existing = spark.table(relation)
    known = {field.name.lower() for field in existing.schema.fields}
    added = [f for f in increment.schema.fields if f.name.lower() not in known]
    if added:
        columns = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in added)
        spark.sql(f"alter table {relation} add columns ({columns})")
        existing = spark.table(relation)
    given = {field.name.lower(): field.name for field in increment.schema.fields}
    aligned = increment.select(
        *[
            (F.col(f"`{given[f.name.lower()]}`") if f.name.lower() in given else F.lit(None))
            .cast(f.dataType)
            .alias(f.name)
            for f in existing.schema.fields
        ]
    )
    aligned.write.insertInto(relation, overwrite=False)
    return len(frame)


def run_fit(manifest_path: Path, project_dir: Path, spark: Any) -> list[tuple[str, int]]:
    """Run every Python model of the manifest in order; returns (model, rows appended)."""
    manifest = load_manifest(manifest_path)
    relations = relation_names(manifest)
    written = []
    for node in python_models(manifest):
        started = time.monotonic()
        path = project_dir / node["original_file_path"]
        context = ModelContext(spark, node, relations)
        frame = load_model_function(path)(context, spark)
        if not isinstance(frame, pd.DataFrame):
            raise FitStepError(f"{node['name']} returned {type(frame).__name__}, not a DataFrame")
        rows = write_increment(spark, frame, context.this)
        print(
            f"fit: {node['name']}: {rows} row(s) added to {context.this} "
            f"in {time.monotonic() - started:.1f} s",
            flush=True,
        )
        written.append((node["name"], rows))
    return written


def add_project_arguments(parser: argparse.ArgumentParser) -> None:
    """--manifest and --project-dir: where dbt writes its manifest, and the dbt project."""
    parser.add_argument(
        "--manifest",
        type=Path,
        default=Path("target/manifest.json"),
        help="dbt's manifest of the build that made the fit's inputs",
    )
    parser.add_argument("--project-dir", type=Path, default=Path("."), help="the dbt project")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target",
        choices=["spark"],
        default="spark",
        help="the dbt target whose warehouse the fit reads and writes (only spark needs this "
        "step: on DuckDB the Python models run inside dbt build)",
    )
    add_project_arguments(parser)


def main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from segmentation.spark import session, stop

    spark = session()
    try:
        run_fit(args.manifest, args.project_dir, spark)
    except FitStepError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        stop(spark)
    return 0
