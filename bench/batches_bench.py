"""What reading a table as a folder of batch files costs, against one file per table.

The same generated shop (N customers, seed 42) is built twice per round, each time on a fresh
DuckDB file: once from the single files, once from batch folders written by
`segmentation generate`'s splitter (a first batch before --split-at, then one file per day for
the last --daily days). The step is run_bench.py's "segments" step (raw files to a segment for
every customer, no tests); rounds alternate single, batched, single, batched, ... Both builds
give the same marts (tests/python/test_batches.py); the batched one also resolves the
re-sent orders and customers (superseded_by_file).

usage: batches_bench.py [--customers 1000000] [--runs 3] [--daily 30] [--split-at 2026-06-01]

Prints a markdown table for docs/benchmarks.md and writes the raw numbers to
bench/results/batches-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_bench  # noqa: E402

from segmentation.batches import batch_boundaries, split_into_batches  # noqa: E402
from segmentation.generate import DEFAULT_END_DATE  # noqa: E402

STAGING = [
    "stg_shop__customers",
    "stg_shop__orders",
    "stg_shop__order_items",
    "stg_shop__returns",
    "stg_shop__sessions",
]


def batch_folders(single: Path, name: str, split_at: list[dt.date], daily: int) -> Path:
    """The generated single files split into batch folders (once; kept beside them)."""
    batched = single.parent / name
    if not (batched / ".done").exists():
        shutil.rmtree(batched, ignore_errors=True)
        shutil.copytree(single, batched)
        days = batch_boundaries(DEFAULT_END_DATE, split_at, daily)
        split_into_batches(batched, days, DEFAULT_END_DATE, progress=print)
        (batched / ".done").write_text("")
    return batched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--daily", type=int, default=30)
    parser.add_argument("--split-at", type=dt.date.fromisoformat, default=dt.date(2026, 6, 1))
    parser.add_argument("--work", type=Path, default=Path("/tmp/segmentation-bench"))
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args()

    data = run_bench.generate(args.customers, args.work)
    single = Path(data["raw"])
    batched = batch_folders(single, f"raw_batched_{args.daily}d", [args.split_at], args.daily)
    files = len(list((batched / "orders").glob("*.parquet")))
    results = {"machine": run_bench.machine(), "customers": args.customers, "files": files,
               "runs": []}  # fmt: skip
    out = run_bench.RESULTS / f"batches-{dt.datetime.now():%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    for run in range(1, args.runs + 1):
        for layout, raw in (("single", single), ("batched", batched)):
            run_dir = args.work / "runs" / "batches" / f"{layout}_{run}"
            run_bench.fresh(run_dir)
            print(f"[{args.customers:,} run {run}] {layout} ...", flush=True)
            step = run_bench.dbt_step(
                run_bench.SEGMENTS_SELECT, run_dir, str(raw), "segments", args.timeout
            )
            step.update(layout=layout, run=run)
            results["runs"].append(step)
            out.write_text(json.dumps(results, indent=1, default=str))
            shutil.rmtree(run_dir / "duckdb_tmp", ignore_errors=True)
    print(report(results))
    print(f"raw numbers: {out}")


def report(results: dict) -> str:
    def values(layout: str, key: str = "wall_s") -> list[float]:
        return [r[key] for r in results["runs"] if r["layout"] == layout and r["ok"]]

    def staging(layout: str) -> list[float]:
        return [
            sum(r["models"].get(m, {}).get("time", 0.0) for m in STAGING)
            for r in results["runs"]
            if r["layout"] == layout and r["ok"]
        ]

    def cell(numbers: list[float]) -> str:
        if not numbers:
            return "failed"
        return f"{statistics.median(numbers):.1f} ({', '.join(f'{x:.1f}' for x in numbers)})"

    def ratio(a: list[float], b: list[float]) -> str:
        return f"{statistics.median(b) / statistics.median(a):.2f}x" if a and b else "n/a"

    rows = [
        "| step | single files: median s (runs) | batch folders: median s (runs) "
        "| batched / single |",
        "|---|---:|---:|---:|",
        f"| time to segments | {cell(values('single'))} | {cell(values('batched'))} | "
        f"{ratio(values('single'), values('batched'))} |",
        f"| staging models (sum of dbt's times) | {cell(staging('single'))} | "
        f"{cell(staging('batched'))} | {ratio(staging('single'), staging('batched'))} |",
        f"| peak RSS GB | {cell(values('single', 'peak_rss_gb'))} | "
        f"{cell(values('batched', 'peak_rss_gb'))} | |",
    ]
    head = (
        f"{results['customers']:,} customers; {results['files']} files per table in the batch "
        f"folders; machine: {results['machine']['cores']} cores, {results['machine']['mem_gb']} GB"
    )
    return head + "\n\n" + "\n".join(rows)


if __name__ == "__main__":
    main()
