"""The benchmarks' measuring helper (bench/procmem.py): the peak disk space of a watched folder
counts a file that a command writes and deletes again (the 10M incremental benchmark reports
the warehouse, its write-ahead log and DuckDB's spill this way); the incremental benchmark's
report sets each step against the full refresh, or against the first build without one; the
thread-use report (bench/thread_use.py) counts the seconds with n nodes running; the node
medians (bench/node_medians.py) are taken over one step's rounds."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
from incremental_bench import report  # noqa: E402
from node_medians import node_medians  # noqa: E402
from node_medians import report as medians_report  # noqa: E402
from procmem import folder_bytes, run_measured  # noqa: E402
from thread_use import concurrency, spans  # noqa: E402

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


def step(name: str, wall_s: float) -> dict:
    return {"step": name, "ok": True, "wall_s": wall_s, "models": {}, "peak_rss_gb": 1.0,
            "peak_disk_gb": 2.0, "dbt_elapsed_s": wall_s - 1}  # fmt: skip


FIRST = {"wall_s": 400.0, "peak_rss_gb": 3.0, "peak_disk_gb": 5.0, "dbt_elapsed_s": 390.0}


def test_incremental_report_divides_by_the_full_refresh() -> None:
    runs = [step("incremental", 30), step("nothing_new", 20), step("full", 200)]
    for second in (40, 100):  # medians of 3 rounds: 40 (incremental), 20 (nothing new), 200
        runs += [step("incremental", second), step("nothing_new", 20), step("full", 200)]
    text = report({"customers": 1000, "first": FIRST, "runs": runs})
    assert "incremental / full: 0.20x" in text and "nothing_new / full: 0.10x" in text
    assert "first build" not in text


def test_incremental_report_without_full_refresh_divides_by_the_first_build() -> None:
    runs = [step("incremental", 40), step("nothing_new", 20)]
    results = {"customers": 1000, "first": FIRST, "steps": ["incremental", "nothing_new"]}
    text = report({**results, "runs": runs})
    assert "incremental / first build: 0.10x" in text
    assert "nothing_new / first build: 0.05x" in text
    assert "first build (every file before the new day): 400.0 s" in text
    assert "| full |" not in text


def test_thread_use_counts_the_seconds_with_each_number_of_nodes_running() -> None:
    def node(name: str, start: float, end: float) -> dict:
        at = lambda s: f"2026-12-07T10:00:{s:06.3f}Z"  # noqa: E731
        return {
            "unique_id": name,
            "timing": [
                {"name": "compile", "started_at": at(start), "completed_at": at(start)},
                {"name": "execute", "started_at": at(start), "completed_at": at(end)},
            ],
        }

    # a: 0-2 s, b: 1-3 s, c: 3-4 s (starting 5 s into the minute)
    nodes = spans({"results": [node("a", 5, 7), node("b", 6, 8), node("c", 8, 9)]})
    assert [(s.node, s.start, s.end) for s in nodes] == [
        ("a", 0.0, 2.0),
        ("b", 1.0, 3.0),
        ("c", 3.0, 4.0),
    ]
    seconds = concurrency(nodes)
    assert round(seconds[1], 6) == 3.0 and round(seconds[2], 6) == 1.0
    assert round(seconds[0], 6) <= 0.1  # the last sample, past the end


def test_node_medians_take_each_nodes_median_over_the_steps_rounds_only() -> None:
    def run(step: str, model_s: float, test_s: float) -> dict:
        return {
            "step": step,
            "models": {
                "m": {"time": model_s, "type": "model"},
                "t": {"time": test_s, "type": "test"},
            },
        }

    results = {
        "runs": [
            run("nothing_new", 1.0, 0.1),
            run("full", 50.0, 9.0),
            run("nothing_new", 3.0, 0.3),
            run("nothing_new", 2.0, 0.2),
        ]
    }
    medians = node_medians(results, "nothing_new")
    assert medians == {"m": ("model", 2.0), "t": ("test", 0.2)}
    text = medians_report(medians, small=0.25)
    assert "summed medians: 2.2 s" in text
    assert "tests under 0.25 s: 1, 0.2 s" in text
    assert "2.00  m" in text and "  t\n" not in text  # only models are listed
