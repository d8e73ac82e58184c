"""One generated shop built once per test session and shared by the end-to-end files that
only need a green build of some shop (publish, Power BI, PII audit, idempotence, crash
safety): each gets its own copy of the warehouse and of dbt's target folder, so it can
rebuild, break or kill it, and the build runs once instead of once per file.

The shop: 1,500 generated customers (seed 42) with sentinel personal data planted in the
raw customers (plant_sentinels: names and birth dates that cannot occur by chance, which
the PII audit looks for), built with FAST vars. The xdist workers of one run share it
through a folder under the temp dir and a file lock: the first caller builds, the others
wait and copy. The raw folder is shared: read it, never write to it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from conftest import DbtRun, run_dbt

from segmentation.generate import generate

CUSTOMERS = 1_500
SEED = 42
FAST = {"segmentation_bootstrap": 5, "segmentation_k_max": 4}
SHARED = Path(tempfile.gettempdir()) / (
    "segmentation-shared-shop-" + os.environ.get("PYTEST_XDIST_TESTRUNUID", str(os.getpid()))
)
DB_NAME = "warehouse.duckdb"


def plant_sentinels(raw: Path) -> None:
    """Rewrite customers.parquet with sentinel names (Firstzq00042 / Lastzq00042) and birth
    dates in 1901-1950, long before any event of the shop."""
    path = raw / "customers.parquet"
    table = pq.read_table(path)
    n = table.num_rows
    start = dt.date(1901, 1, 1).toordinal()
    span = dt.date(1950, 12, 31).toordinal() - start
    for name, values, type_ in (
        ("first_name", [f"Firstzq{i:05d}" for i in range(n)], pa.string()),
        ("last_name", [f"Lastzq{i:05d}" for i in range(n)], pa.string()),
        ("birth_date", [dt.date.fromordinal(start + (i * 7_919) % span) for i in range(n)],
         pa.date32()),
    ):  # fmt: skip
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, pa.array(values, type_))
    pq.write_table(table, path)


@dataclass
class Shop:
    raw: Path  # shared: read only
    db: Path  # this caller's copy
    target: Path  # this caller's copy of dbt's target folder (manifest.json)

    def rebuild(self, **kwargs) -> DbtRun:
        """`dbt build` of this copy again, with the shop's vars."""
        return run_dbt(["build"], self.raw, self.db, FAST, **kwargs)


def _build_once() -> Path:
    SHARED.mkdir(parents=True, exist_ok=True)
    with open(SHARED / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        build = SHARED / "build"
        if not (SHARED / "built").exists():
            for folder in (SHARED / "raw", build):
                shutil.rmtree(folder, ignore_errors=True)
            generate(CUSTOMERS, SEED, SHARED / "raw", SHARED / "truth")
            plant_sentinels(SHARED / "raw")
            build.mkdir()
            run = run_dbt(["build"], SHARED / "raw", build / DB_NAME, FAST, data_tests=True)
            assert run.returncode == 0, run.output[-5000:]
            (SHARED / "built").touch()
    return build


def shared_shop(dest: Path) -> Shop:
    """The shop's raw folder and a copy of its green build in ``dest`` (created)."""
    build = _build_once()
    dest.mkdir(parents=True, exist_ok=True)
    for path in build.glob(DB_NAME + "*"):  # the database and its WAL, if any
        shutil.copy2(path, dest / path.name)
    shutil.copytree(build / "target", dest / "target")
    return Shop(SHARED / "raw", dest / DB_NAME, dest / "target")
