"""Shared fixtures: run dbt against a raw folder into a throw-away DuckDB file."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

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


#: The fit's vars of a test build that does not give its own: a short bootstrap and k range.
#: With the project's defaults (30 resamples, k up to 10) the k selection alone is most of a
#: small build; tests that check what the fit finds give their vars (test_build_segmentation).
TEST_FIT_VARS = {"segmentation_bootstrap": 5, "segmentation_k_max": 6}

#: dbt's parse of this project takes ~20 s; its partial-parse file is shared between the
#: invocations of one test session that dbt would parse identically (same vars, same
#: connection settings): dbt still re-checks every file's checksum and the env vars each file
#: read, so a copy is never staler than the project. Shared by the xdist workers of one run.
PARSE_CACHE = Path(tempfile.gettempdir()) / (
    "segmentation-dbt-parse-" + os.environ.get("PYTEST_XDIST_TESTRUNUID", str(os.getpid()))
)


#: dbt writes a debug log of every query it runs (logs/dbt.log) besides what it prints; the
#: tests read what it prints. Without the file a small build takes ~10% less CPU (the
#: compiled SQL of each query is formatted and written). DBT_LOG_LEVEL_FILE=debug brings it
#: back when a failing test needs it.
NO_DBT_FILE_LOG = {"DBT_LOG_LEVEL_FILE": os.environ.get("DBT_LOG_LEVEL_FILE", "none")}


#: The tests' dbt commands run in the test's process (dbtRunner): dbt's and the fit's
#: imports (~7 s of CPU per command) are paid once per pytest worker instead of once per
#: command. SEGMENTATION_TEST_DBT_SUBPROCESS=1 starts the `dbt` executable instead, as a user
#: would; test_crash_safety.py always does (it kills the build).
IN_PROCESS = os.environ.get("SEGMENTATION_TEST_DBT_SUBPROCESS", "") in ("", "0")


@dataclass
class DbtCommand:
    """One dbt invocation as the tests start it: the command line, its environment and the
    folder it runs in (the warehouse's), with dbt's parse shared through PARSE_CACHE."""

    cmd: list[str]
    env: dict[str, str]
    cwd: Path
    db_path: Path
    parse_key: str

    @property
    def _cached(self) -> Path:
        return PARSE_CACHE / self.parse_key / "partial_parse.msgpack"

    @property
    def _parse_file(self) -> Path:
        return self.cwd / "target" / "partial_parse.msgpack"

    def restore_parse(self) -> None:
        if self._cached.exists() and not self._parse_file.exists():
            self._parse_file.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self._cached, self._parse_file)

    def save_parse(self) -> None:
        if self._parse_file.exists() and not self._cached.exists():
            self._cached.parent.mkdir(parents=True, exist_ok=True)
            partial = self._cached.with_suffix(f".{os.getpid()}")
            shutil.copyfile(self._parse_file, partial)
            os.replace(partial, self._cached)

    def run(self) -> DbtRun:
        self.restore_parse()
        if IN_PROCESS:
            returncode, output = self._invoke()
        else:
            proc = subprocess.run(
                self.cmd, cwd=self.cwd, env=self.env, capture_output=True, text=True, check=False
            )
            returncode, output = proc.returncode, proc.stdout + proc.stderr
        self.save_parse()
        return DbtRun(returncode, output, self.db_path)

    def _invoke(self) -> tuple[int, str]:
        """The same command through dbt's Python entry point, in this process, with this
        command's environment and folder, and dbt's output captured; the exit status is
        the one the `dbt` command would give (0 success, 1 a node failed, 2 dbt failed)."""
        from dbt.cli.main import dbtRunner

        saved_cwd = os.getcwd()
        output = io.StringIO()
        # DBT_USE_COLORS: plain text, as dbt writes into a pipe
        env = {"DBT_USE_COLORS": "false", **self.env}
        try:
            os.chdir(self.cwd)
            with (
                mock.patch.dict(os.environ, env, clear=True),
                contextlib.redirect_stdout(output),
                contextlib.redirect_stderr(output),
            ):
                result = dbtRunner().invoke(self.cmd[1:])
        finally:
            _close_duckdb()
            os.chdir(saved_cwd)
        if result.exception is not None:
            print(f"dbt failed: {result.exception!r}", file=output)
        returncode = 0 if result.success else 2 if result.exception is not None else 1
        return returncode, output.getvalue()


def _close_duckdb() -> None:
    """Close the warehouse dbt-duckdb left open in this process. The `dbt` executable closes
    it when it exits; in-process, the file would stay open, and a test's own connection to it
    (read-only: another configuration) would be refused."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager as manager

    with manager._LOCK:
        if manager._ENV is not None:
            manager._ENV.close()
            manager._ENV = None
    gc.collect()  # cursors of the closed connection keep the database open until collected


def dbt_command(
    args: list[str],
    raw_dir: Path,
    db_path: Path,
    extra_vars: dict | None = None,
    env: dict | None = None,
    unit_tests: bool = False,
    data_tests: bool = False,
) -> DbtCommand:
    """`dbt <args>` on raw_dir into db_path, the way a user would run it, with extra_vars
    (TEST_FIT_VARS when None).

    dbt runs in db_path's folder with the warehouse, its temp folder and the raw folder given
    by env (SEGMENTATION_DB as a file name there, SEGMENTATION_RAW): dbt's parse then does
    not depend on the test's folder, and is shared (PARSE_CACHE).

    A `build` without its own selection leaves out dbt's unit tests unless unit_tests, and
    its data tests unless data_tests. The unit tests' fixtures do not read the warehouse, so
    they run once (test_build_segmentation.py). The ~280 data tests are most of the nodes of
    a small build (about 40% of its time): they run in the builds whose state they are about
    (a green build of each kind of input: planted, defects, CSV, batches, the incremental
    build, the shared shop) and where a test reads their results; a build that only makes
    the state another check compares (a copy rebuilt, a refit, a full refresh to compare
    with) leaves them out."""
    db_path, raw_dir = Path(db_path).absolute(), Path(raw_dir).absolute()
    extra_vars = TEST_FIT_VARS if extra_vars is None else extra_vars
    work = db_path.parent
    selected = any(a in ("--select", "-s", "--exclude", "--selector") for a in args)
    if args[:1] == ["build"] and not selected:
        left_out = [
            kind
            for kind, wanted in (
                ("resource_type:unit_test", unit_tests),
                ("resource_type:test", data_tests),
            )
            if not wanted
        ]
        if left_out:
            args = [*args, "--exclude", *left_out]
    cmd = [
        str(BIN / "dbt"),
        *args,
        "--project-dir",
        str(REPO),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    if extra_vars:
        cmd += ["--vars", json.dumps(extra_vars, sort_keys=True)]
    full_env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(REPO / "profiles"),
        "SEGMENTATION_RAW": str(raw_dir),
        "SEGMENTATION_DB": db_path.name,
        "SEGMENTATION_TEMP_DIR": "tmp",
        **NO_DBT_FILE_LOG,
        **(env or {}),
    }
    key = json.dumps([extra_vars or {}, db_path.name, env or {}], sort_keys=True)
    return DbtCommand(cmd, full_env, work, db_path, hashlib.sha256(key.encode()).hexdigest())


def make_vars(variables: dict) -> str:
    """`make run`'s VARS= argument for these dbt vars (YAML pairs, README)."""
    return "VARS=" + ", ".join(f"{key}: {value}" for key, value in variables.items())


def run_dbt(*args, **kwargs) -> DbtRun:
    """Run dbt_command(...) (same arguments) and wait for it."""
    return dbt_command(*args, **kwargs).run()


@pytest.fixture(scope="session")
def dbt_runner():
    return run_dbt
