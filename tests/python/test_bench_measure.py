"""The benchmarks' measuring helper (bench/procmem.py): the peak disk space of a watched folder
counts a file that a command writes and deletes again (the 10M incremental benchmark reports
the warehouse, its write-ahead log and DuckDB's spill this way)."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
from procmem import folder_bytes, run_measured  # noqa: E402

MB = 1024**2

# writes 8 MB, keeps it 2.5 s (the folder is sampled about once a second), deletes it
WRITE_THEN_DELETE = """
import os, sys, time
path = os.path.join(sys.argv[1], "spill", "block.tmp")
os.makedirs(os.path.dirname(path))
with open(path, "wb") as handle:
    handle.write(os.urandom(8 * 1024 * 1024))
time.sleep(2.5)
os.remove(path)
"""


def test_peak_disk_counts_a_file_written_and_deleted_during_the_command(tmp_path: Path) -> None:
    (tmp_path / "warehouse.duckdb").write_bytes(b"x" * MB)
    m = run_measured(
        [sys.executable, "-c", WRITE_THEN_DELETE, str(tmp_path)], disk_folder=str(tmp_path)
    )
    assert m.returncode == 0
    assert folder_bytes(str(tmp_path)) < 2 * MB  # the spill is gone at the end
    assert 9 * MB <= m.peak_disk_bytes < 12 * MB  # 1 MB warehouse + 8 MB spill (+ blocks)


def test_no_folder_watched_no_disk_figure(tmp_path: Path) -> None:
    m = run_measured([sys.executable, "-c", "pass"])
    assert m.returncode == 0 and m.peak_disk_bytes is None
