"""Crash safety: a build that dies or fails never touches the last good publish.

A module fixture publishes a copy of the shared shop's build (shared_shop.py: 1,500 generated
customers) to a BI folder. Then:

* a second `dbt build` on the same database is killed with SIGKILL (whole process group)
  once models past staging are done: the BI folder is byte-identical afterwards, the next
  build on the same database (DuckDB must recover from the killed writer and its WAL)
  succeeds, and publish works again;
* a build killed during the Python models, on a fresh database: dbt itself is the first to
  reopen the database, and the next build succeeds;
* `make run` on a database where one model (the incremental ``segmentation_runs``) cannot be
  written exits non-zero after building everything else, never publishes, and the BI folder
  is byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest
from conftest import BIN, NO_DBT_FILE_LOG, REPO, dbt_command, make_vars
from shared_shop import FAST, shared_shop

pytestmark = pytest.mark.e2e

# A model past staging has been written: kill while the build is in the middle.
PAST_STAGING = re.compile(r"OK created \w+ \w+ model (intermediate|marts)\.")


def publish(db: Path, bi_dir: Path) -> subprocess.CompletedProcess:
    manifest = db.parent / "target" / "manifest.json"
    return subprocess.run(
        [BIN / "segmentation", "publish", "--db", db, "--bi", bi_dir, "--manifest", manifest],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )


def file_hashes(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``folder`` (hidden files included)."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def kill_build_when(
    raw: Path, db: Path, pattern: re.Pattern, missing: str, delay: float = 0.0
) -> tuple[int, str]:
    """Start `dbt build` into db, SIGKILL its process group once its log shows pattern (after
    delay seconds more); returns its return code and log."""
    build = dbt_command(["build"], raw, db, FAST)
    build.restore_parse()
    log = db.parent / "killed-build.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            build.cmd, cwd=build.cwd, env=build.env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 180
            while not pattern.search(log.read_text()):
                assert proc.poll() is None, "the build ended before it could be killed"
                assert time.monotonic() < deadline, f"{missing} within 180 s"
                time.sleep(0.05)
            time.sleep(delay)
            os.killpg(proc.pid, signal.SIGKILL)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
    return proc.returncode, log.read_text()


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A green build and its publish: (raw folder, database, BI folder)."""
    work = tmp_path_factory.mktemp("crash")
    shop = shared_shop(work / "build")
    raw, db = shop.raw, shop.db
    bi = work / "bi"
    proc = publish(db, bi)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return raw, db, bi


def test_killed_build_leaves_the_publish_intact_and_the_next_build_recovers(published, dbt_runner):
    raw, db, bi = published
    before = file_hashes(bi)
    assert {"segmentation.duckdb", "_manifest.json", "customer_segments.parquet"} <= set(before)

    returncode, text = kill_build_when(raw, db, PAST_STAGING, "no model past staging")
    assert returncode == -signal.SIGKILL
    assert "Completed successfully" not in text
    assert file_hashes(bi) == before

    # The killed writer held the database: it must open again (WAL replayed or discarded).
    with duckdb.connect(str(db)) as con:
        assert con.execute("SELECT count(*) FROM marts.customer_segments").fetchone()[0] > 0

    rerun = dbt_runner(["build"], raw, db, extra_vars=FAST)
    assert rerun.returncode == 0, rerun.output[-5000:]
    proc_publish = publish(db, bi)
    assert proc_publish.returncode == 0, proc_publish.stdout + proc_publish.stderr
    after = file_hashes(bi)
    assert set(after) == set(before)
    assert not [p for p in bi.iterdir() if p.name.startswith(".staging-")]
    manifest = json.loads((bi / "_manifest.json").read_text())
    assert manifest["marts"]["customer_segments"]["sha256"] == after["customer_segments.parquet"]


def test_killed_build_database_reopens_without_help(published, dbt_runner, tmp_path):
    """Kill a build during the Python models and let dbt itself be the first to reopen."""
    raw, _db, _bi = published
    db = tmp_path / "warehouse.duckdb"
    python_model = re.compile(r"START python \w+ model marts\.segment_\w+")
    returncode, _ = kill_build_when(raw, db, python_model, "no Python model started", 0.5)
    assert returncode == -signal.SIGKILL
    rerun = dbt_runner(["build"], raw, db, extra_vars=FAST)
    assert rerun.returncode == 0, rerun.output[-5000:]
    assert rerun.query("SELECT count(*) FROM marts.segmentation_runs") == [(1,)]


def break_one_model(db: Path) -> None:
    """Make the incremental model segmentation_runs fail on its next insert: recreate its
    table with a CHECK that only the runs already in it satisfy (every other model builds)."""
    with duckdb.connect(str(db)) as con:
        columns = con.execute("DESCRIBE marts.segmentation_runs").fetchall()
        ddl = ", ".join(f'"{name}" {type_}' for name, type_, *_ in columns)
        runs = [
            row[0] for row in con.execute("SELECT run_id FROM marts.segmentation_runs").fetchall()
        ]
        allowed = ", ".join(f"'{run}'" for run in runs)
        con.execute("CREATE TABLE marts.runs_backup AS SELECT * FROM marts.segmentation_runs")
        con.execute("DROP TABLE marts.segmentation_runs")
        con.execute(f"CREATE TABLE marts.segmentation_runs ({ddl}, CHECK (run_id IN ({allowed})))")
        con.execute("INSERT INTO marts.segmentation_runs SELECT * FROM marts.runs_backup")
        con.execute("DROP TABLE marts.runs_backup")


def test_make_run_with_a_failing_model_exits_non_zero_and_does_not_publish(published, tmp_path):
    """Runs last in this module: it leaves the build database with a broken table."""
    raw, db, bi = published
    before = file_hashes(bi)
    break_one_model(db)
    env = {
        **os.environ,
        **NO_DBT_FILE_LOG,
        "SEGMENTATION_TEMP_DIR": str(tmp_path / "tmp"),
        # keep dbt's artifacts out of the repository
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }
    proc = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-o",
            ".venv/.installed",  # never reinstall the virtualenv from a test
            "run",
            f"RAW={raw}",
            f"SEGMENTATION_DB={db}",
            f"SEGMENTATION_BI={bi}",
            # the vars the shop was built with: no refit for a change of settings
            make_vars(FAST),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-5000:]
    assert "segmentation check" in output  # the preflight ran and passed
    errors = re.findall(r"ERROR creating \w+ \w+ model ([\w.]+)", output)
    assert errors == ["marts.segmentation_runs"], output[-5000:]
    assert "Constraint Error" in output
    assert re.search(r"OK created \w+ \w+ model marts\.customer_segments", output)
    assert "publishing " not in output
    assert file_hashes(bi) == before
