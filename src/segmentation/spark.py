"""The local Spark engine (docs/scale-out.md): a SparkSession configured as dbt's `spark` target.

The target's settings live once, in profiles/profiles.yml (`server_side_parameters`); this
module renders that file (its `env_var(...)` calls) so that the fit step and the tests open
the same warehouse and metastore as `dbt build --target spark`.
"""

from __future__ import annotations

import os
import tempfile
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
    name: what `segmentation publish --from-spark` publishes from, so that the Parquet
    files, the serving file, the Power BI project and the report are made by the same code
    as on DuckDB. Returns (schema.name, rows) per table.

    Spark's executors write each table as Parquet files into a scratch folder beside the
    DuckDB file, and DuckDB reads those files: no row passes through the Spark driver (a
    collect, or toArrow, brings a whole table into the driver and stops at
    spark.driver.maxResultSize: 1 GB was too little for the 1M-customer marts). Timestamps
    are written as UTC instants (TIMESTAMP_MICROS) and arrive as UTC TIMESTAMP. The file is
    replaced only once every table is in it."""
    import duckdb

    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    partial = db_path.with_name(db_path.name + ".partial")
    partial.unlink(missing_ok=True)
    copied = []
    timestamp_type = "spark.sql.parquet.outputTimestampType"
    earlier = spark.conf.get(timestamp_type)
    spark.conf.set(timestamp_type, "TIMESTAMP_MICROS")
    con = duckdb.connect(str(partial))
    try:
        con.execute("set TimeZone = 'UTC'")
        with tempfile.TemporaryDirectory(prefix=".spark-copy-", dir=db_path.parent) as scratch:
            for schema, name in tables:
                folder = Path(scratch) / f"{schema}.{name}"
                spark.table(f"{schema}.{name}").write.parquet(folder.resolve().as_uri())
                files = str(folder / "*.parquet").replace("'", "''")
                source = f"read_parquet('{files}')"
                # one pass: instants (TIMESTAMP WITH TIME ZONE) become UTC TIMESTAMP on the way
                columns = [
                    f'cast("{column}" as timestamp) as "{column}"'
                    if data_type == "TIMESTAMP WITH TIME ZONE"
                    else f'"{column}"'
                    for column, data_type, *_ in con.execute(
                        f"describe select * from {source}"
                    ).fetchall()
                ]
                con.execute(f'create schema if not exists "{schema}"')
                con.execute(
                    f'create table "{schema}"."{name}" as select {", ".join(columns)} from {source}'
                )
                rows = con.execute(f'select count(*) from "{schema}"."{name}"').fetchall()
                copied.append((f"{schema}.{name}", rows[0][0]))
    finally:
        con.close()
        spark.conf.set(timestamp_type, earlier)
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
