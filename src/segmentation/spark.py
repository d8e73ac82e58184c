"""The local Spark engine (docs/scale-out.md): a SparkSession configured as dbt's `spark` target.

The target's settings live once, in profiles/profiles.yml (`server_side_parameters`); this
module renders that file (its `env_var(...)` calls) so that the fit step and the tests open
the same warehouse and metastore as `dbt build --target spark`.
"""

from __future__ import annotations

import os
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

    builder = SparkSession.builder.enableHiveSupport()
    for key, value in spark_conf(profiles).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
