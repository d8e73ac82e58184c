"""DuckDB against a local Spark on the same files: `make run` against `make run ENGINE=spark`
(docs/scale-out.md).

For each size, the generated shop (seed 42, the same files as `make bench`) is built and
published from nothing, rounds alternating duckdb, spark, duckdb, spark, ...: a fresh DuckDB
file or a fresh Spark warehouse each time, so that every run is a first build with the
fit. Wall time and peak memory (the whole process tree: make, dbt, the JVM) per run;
medians per engine and their ratio.

usage: engines_bench.py [--sizes "60000 1000000"] [--runs 3] [--spark-memory 8g]

Prints a markdown table for docs/scale-out.md and writes the raw numbers to
bench/results/engines-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_bench  # noqa: E402
from procmem import run_measured  # noqa: E402

ENGINES = ("duckdb", "spark")


def make_run(engine: str, raw: str, run_dir: Path, spark_memory: str, timeout: float) -> dict:
    run_bench.fresh(run_dir)
    env = {
        **os.environ,
        "SEGMENTATION_DB": str(run_dir / "warehouse.duckdb"),
        "SEGMENTATION_TEMP_DIR": str(run_dir / "duckdb_tmp"),
        "SEGMENTATION_SPARK_WAREHOUSE": str(run_dir / "spark"),
        "SEGMENTATION_SPARK_MEMORY": spark_memory,
        "SEGMENTATION_BI": str(run_dir / "bi"),
        "DBT_TARGET_PATH": str(run_dir / "target"),
        "DBT_LOG_PATH": str(run_dir / "logs"),
    }
    cmd = [
        "make", "--no-print-directory", "-o", ".venv/.installed", "-o", ".venv/.installed-spark",
        "run", f"ENGINE={engine}", f"RAW={raw}",
    ]  # fmt: skip
    m = run_measured(
        cmd, env=env, cwd=str(run_bench.ROOT), log_path=str(run_dir / "run.log"), timeout_s=timeout
    )
    record = run_bench.measurement_dict(m)
    record["engine"] = engine
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="60000 1000000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--spark-memory", default="8g", help="SEGMENTATION_SPARK_MEMORY")
    parser.add_argument("--work", type=Path, default=Path("/tmp/segmentation-bench"))
    parser.add_argument("--timeout", type=float, default=7200)
    args = parser.parse_args()
    results = {"machine": run_bench.machine(), "spark_memory": args.spark_memory, "sizes": []}
    out = run_bench.RESULTS / f"engines-{dt.datetime.now():%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    for size in [int(s) for s in args.sizes.split()]:
        data = run_bench.generate(size, args.work)
        entry = {"customers": size, "runs": []}
        results["sizes"].append(entry)
        for run in range(1, args.runs + 1):
            for engine in ENGINES:
                print(f"[{size:,} run {run}] make run ENGINE={engine} ...", flush=True)
                run_dir = args.work / "runs" / f"engines_{size}_{engine}"
                record = make_run(engine, data["raw"], run_dir, args.spark_memory, args.timeout)
                record["run"] = run
                entry["runs"].append(record)
                out.write_text(json.dumps(results, indent=1, default=str))
                print(f"  {record['wall_s']:.1f} s, peak {record['peak_rss_gb']:.2f} GB, "
                      f"ok={record['ok']}", flush=True)  # fmt: skip
                shutil.rmtree(run_dir / "duckdb_tmp", ignore_errors=True)
    print(report(results))
    print(f"raw numbers: {out}")


def report(results: dict) -> str:
    lines = [
        "| customers | DuckDB median s (runs) | Spark median s (runs) | Spark / DuckDB | "
        "DuckDB peak GB | Spark peak GB |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for entry in results["sizes"]:
        walls, peaks, each = {}, {}, {}
        for engine in ENGINES:
            runs = [r for r in entry["runs"] if r["engine"] == engine and r["ok"]]
            walls[engine] = statistics.median([r["wall_s"] for r in runs]) if runs else None
            peaks[engine] = statistics.median([r["peak_rss_gb"] for r in runs]) if runs else None
            each[engine] = ", ".join(f"{r['wall_s']:.0f}" for r in runs) or "failed"
        ratio = (
            f"{walls['spark'] / walls['duckdb']:.1f}x" if walls["spark"] and walls["duckdb"] else ""
        )
        lines.append(
            f"| {entry['customers']:,} | {walls['duckdb'] or 0:.0f} ({each['duckdb']}) | "
            f"{walls['spark'] or 0:.0f} ({each['spark']}) | {ratio} | "
            f"{peaks['duckdb'] or 0:.2f} | {peaks['spark'] or 0:.2f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
