"""The local Spark engine (docs/scale-out.md): a SparkSession configured as dbt's `spark` target.

The target's settings live once, in profiles/profiles.yml (`server_side_parameters`); this
module renders that file (its `env_var(...)` calls) so that the fit step and the tests open
the same warehouse and metastore as `dbt build --target spark`.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import jinja2
import yaml

PROFILES = Path(__file__).resolve().parents[2] / "profiles" / "profiles.yml"


def spark_conf(profiles: Path = PROFILES) -> dict[str, str]:
    """The `spark` target's Spark settings, with env vars applied as dbt applies them."""

    def env_var(name: str, default: str | None = None) -> str:
        value = os.environ.get(name, default)
        if value is None:
            raise KeyError(f"env var {name} is not set and has no default in {profiles}")
        return value

    environment = jinja2.Environment()
    environment.filters["as_number"] = lambda value: value
    rendered = environment.from_string(profiles.read_text()).render(env_var=env_var)
    target = yaml.safe_load(rendered)["segmentation"]["outputs"]["spark"]
    conf = {str(k): str(v) for k, v in target.get("server_side_parameters", {}).items()}
    conf["spark.sql.ansi.enabled"] = "false"  # dbt-spark forces this too
    return conf


def session(profiles: Path = PROFILES):
    """The SparkSession of the `spark` target (created, or the one this process has)."""
    from pyspark.sql import SparkSession

    # pyspark warns on every pandas conversion that pandas 3 is newer than it was tested with
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in spark_conf(profiles).items():
        builder = builder.config(key, value)
    # DataFrame -> pandas through Arrow (columns), not row by row
    builder = builder.config("spark.sql.execution.arrow.pyspark.enabled", "true")
    spark = builder.config("spark.ui.showConsoleProgress", "false").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def copy_to_duckdb(spark, tables: list[tuple[str, str]], db_path: Path) -> list[tuple[str, int]]:
    """Copy Spark tables (schema, name) into a new DuckDB file, under the same schema and
    name, through Arrow: what `segmentation publish --from-spark` publishes from, so that the
    Parquet files, the serving file, the Power BI project and the report are made by the
    same code as on DuckDB. Timestamps (instants in Spark) arrive as UTC TIMESTAMP. The file
    is replaced only once every table is in it. Returns (schema.name, rows) per table."""
    import duckdb
    import pyarrow as pa

    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    partial = db_path.with_name(db_path.name + ".partial")
    partial.unlink(missing_ok=True)
    copied = []
    con = duckdb.connect(str(partial))
    try:
        for schema, name in tables:
            table = spark.table(f"{schema}.{name}").toArrow()
            fields = [
                pa.field(f.name, pa.timestamp(f.type.unit))
                if pa.types.is_timestamp(f.type) and f.type.tz is not None
                else f
                for f in table.schema
            ]
            table = table.cast(pa.schema(fields))
            con.execute(f'create schema if not exists "{schema}"')
            con.register("copied_from_spark", table)
            con.execute(f'create table "{schema}"."{name}" as select * from copied_from_spark')
            con.unregister("copied_from_spark")
            copied.append((f"{schema}.{name}", table.num_rows))
    finally:
        con.close()
    os.replace(partial, db_path)
    return copied


def stop(spark) -> None:
    """Stop the session and end the Java process this Python process started for it: after
    SparkSession.stop() PySpark keeps that JVM (about 1 GB) alive until Python exits, which
    in a long-lived process (a test worker) holds memory and CPU for nothing."""
    from pyspark import SparkContext

    spark.stop()
    gateway = SparkContext._gateway
    if gateway is None:
        return
    process = getattr(gateway, "proc", None)
    gateway.shutdown()
    SparkContext._gateway = None
    SparkContext._jvm = None
    if process is not None:
        process.terminate()
        process.wait(timeout=60)
