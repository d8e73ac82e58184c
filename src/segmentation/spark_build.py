"""`segmentation spark-build`: the whole build on the Spark target in one process, one JVM.

dbt-spark's session method cannot run dbt Python models, so a Spark build is three dbt
steps around the fit (docs/scale-out.md):

1. `dbt build --select +path:python_models --exclude path:python_models`: everything the
   fit reads, with its data tests;
2. the fit (segmentation.fit_step): the unchanged python_models/ on the Spark tables;
3. `dbt build --exclude +path:python_models`: everything after the fit, with its tests,
   then `dbt test --select path:python_models`: the tests of the fit's tables;
4. with ``--marts-db``, the public marts are copied into a DuckDB file, which `segmentation
   publish --db` publishes like a DuckDB build (nothing after this needs Spark).

Run as separate commands, each step starts its own Java process and Spark session and
re-reads the metastore cold (about a minute each on two cores). Here dbt runs in this
process (dbt's programmatic runner), and dbt-spark's session method picks up the session
this process opened (`SparkSession.builder.getOrCreate()`): one JVM for the four steps.
Arguments after ``--`` go to every dbt step (``--project-dir``, ``--vars``,
``--full-refresh``); dbt reads DBT_TARGET_PATH / DBT_LOG_PATH as usual.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
from pathlib import Path

UNIT_TESTS = "resource_type:unit_test"  # DuckDB SQL fixtures: they run on DuckDB only


def dbt_steps(dbt_args: list[str]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The dbt commands before the fit and after it, in order (names are for progress
    lines)."""
    spark = ["--target", "spark", *dbt_args]
    before = {
        "before the fit": [
            "build", *spark, "--select", "+path:python_models",
            "--exclude", "path:python_models", UNIT_TESTS,
        ],
    }  # fmt: skip
    after = {
        "after the fit": ["build", *spark, "--exclude", "+path:python_models", UNIT_TESTS],
        "tests of the fit's tables": ["test", *spark, "--select", "path:python_models"],
    }
    return before, after


class StepFailed(Exception):
    """A dbt step did not succeed; exit_code is what the command returns."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


#: Tells the dbt steps after the fit that int_run_started (this run's id, built before the
#: fit) belongs to this run: the monitoring tables would refuse it otherwise
#: (macro require_run_started).
AFTER_FIT = {"SEGMENTATION_RUN_STEP": "after-fit"}


@contextlib.contextmanager
def _environment(variables: dict[str, str]):
    """os.environ with these variables set, restored afterwards."""
    saved = dict(os.environ)
    os.environ.update(variables)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _run_dbt_steps(runner, steps: dict[str, list[str]]) -> None:
    for name, command in steps.items():
        started = time.monotonic()
        print(f"spark-build: dbt {command[0]} ({name})", flush=True)
        result = runner.invoke(command)
        if result.exception is not None:
            raise StepFailed(f"dbt {command[0]} ({name}) failed: {result.exception}", 2)
        if not result.success:
            raise StepFailed(f"dbt {command[0]} ({name}) failed; stopped", 1)
        print(f"spark-build: {name}: {time.monotonic() - started:.0f} s", flush=True)


def build_on_spark(
    dbt_args: list[str], manifest_path: Path, project_dir: Path, marts_db: Path | None
) -> int:
    """Run the four steps; stop at the first that fails. Returns the process exit code."""
    from dbt.cli.main import dbtRunner

    from segmentation import fit_step, publish
    from segmentation.spark import session, stop

    # opened first, so that dbt-spark's getOrCreate() gets this one (with Arrow on and
    # Spark's console progress bars off) instead of opening its own
    spark = session()
    runner = dbtRunner()
    before, after = dbt_steps(dbt_args)
    try:
        _run_dbt_steps(runner, before)
        started = time.monotonic()
        fit_step.run_fit(manifest_path, project_dir, spark)
        print(f"spark-build: the fit: {time.monotonic() - started:.0f} s", flush=True)
        with _environment(AFTER_FIT):
            _run_dbt_steps(runner, after)
        if marts_db is not None:
            publish.copy_from_spark(manifest_path, marts_db, spark)
    except StepFailed as exc:
        print(f"error: spark-build: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    except fit_step.FitStepError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        stop(spark)
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from segmentation.fit_step import add_project_arguments

    add_project_arguments(parser)
    parser.add_argument(
        "--marts-db",
        type=Path,
        default=None,
        help="copy the public marts into this DuckDB file after a green build "
        "(what `segmentation publish --db` then publishes)",
    )
    parser.add_argument(
        "dbt_args",
        nargs=argparse.REMAINDER,
        help="after --: arguments for every dbt step (--project-dir, --vars, --full-refresh)",
    )


def main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    dbt_args = args.dbt_args[1:] if args.dbt_args[:1] == ["--"] else args.dbt_args
    return build_on_spark(dbt_args, args.manifest, args.project_dir, args.marts_db)
