"""Shared fixtures: run dbt against a raw folder into a throw-away DuckDB file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FIXTURES = REPO / "tests" / "fixtures"

# The files that take minutes, longest first. `make test` runs one file per worker
# (--dist loadfile --no-loadscope-reorder) in collection order: started first, the long
# ones do not leave one worker running alone at the end.
SLOW_FILES_FIRST = (
    "test_spark_engine.py",
    "test_incremental.py",
    "test_build_segmentation.py",
    "test_idempotent_builds.py",
    "test_batches.py",
    "test_crash_safety.py",
    "test_spark_raw.py",
    "test_real_data_build.py",
)


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(SLOW_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@dataclass
class DbtRun:
    """Result of one dbt invocation."""

    returncode: int
    output: str
    db_path: Path

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.db_path), read_only=True)

    def query(self, sql: str) -> list[tuple]:
        with self.connect() as con:
            return con.sql(sql).fetchall()


def run_dbt(
    args: list[str],
    raw_dir: Path,
    db_path: Path,
    extra_vars: dict | None = None,
    env: dict | None = None,
) -> DbtRun:
    """Run `dbt <args>` on raw_dir into db_path, the way a user would from the repo root."""
    dbt_vars = {"raw_path": str(raw_dir), **(extra_vars or {})}
    full_env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(REPO / "profiles"),
        "SEGMENTATION_DB": str(db_path),
        "SEGMENTATION_TEMP_DIR": str(db_path.parent / "tmp"),
        **(env or {}),
    }
    work = db_path.parent
    cmd = [
        str(BIN / "dbt"),
        *args,
        "--vars",
        json.dumps(dbt_vars),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    proc = subprocess.run(cmd, cwd=REPO, env=full_env, capture_output=True, text=True, check=False)
    return DbtRun(proc.returncode, proc.stdout + proc.stderr, db_path)


@pytest.fixture(scope="session")
def dbt_runner():
    return run_dbt
