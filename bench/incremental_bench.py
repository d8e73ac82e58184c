"""What an incremental build of one new day costs, against a full build of the same files.

The generated shop (N customers, seed 42) is split by `segmentation generate`'s splitter into
batch folders whose last --daily days land one file per day. A first `dbt build` reads every
file that lands before --new-day (not measured); the files after it are left out. --new-day
is mid-month by default: a day like most days, whose build keeps the month ends of the
last one (the first day of a month recomputes every month end). Then, per round, on a copy
of that warehouse:

- **incremental**: the files of --new-day land and plain `dbt build` applies them (the daily
  activity and the month-end snapshots recompute only the touched customers;
  docs/incremental.md);
- **nothing_new**: plain `dbt build` again with no file landed: what every build costs
  whatever it applies (the floor of an incremental build);
- **full**: `dbt build --full-refresh` on the same files right after, which rebuilds every
  model from all files (the fitted models and build history are kept, as in the equality
  test, tests/python/test_incremental.py).

Rounds run incremental, nothing_new, full, incremental, ...; medians per step. Every step,
the first build included, is the build `make run` runs: `dbt build` with every model and data
test and without dbt's unit tests (--exclude-resource-type unit_test: they check the SQL on
fixed inputs; dbt recommends leaving them out of production builds). Like a scheduled job in
one project folder, every build uses the same warehouse path and dbt target folder, so dbt
reuses its parse of the project (target/partial_parse.msgpack) after the first build;
--fresh-parse gives each step a target of its own, as every run of this benchmark did before
the option (each build then parses the project from scratch). The report gives dbt's own time
for the nodes beside the wall time (the rest is dbt's start, parse and artifacts).

usage: incremental_bench.py [--customers 1000000] [--runs 3] [--daily 11] [--new-day 2026-09-21]
                            [--fresh-parse] [--no-full]

--no-full leaves out the full refresh and sets each step against the first build instead (a
full build of every file but the new day's, about 1% fewer orders): a full refresh rewrites
every table inside the warehouse file, which keeps the replaced tables' blocks until it ends,
so on a warehouse of tens of GB (10M customers) it needs disk for two of them.

Measured per step: wall time, dbt's node time, the peak RSS of the process tree and the peak
disk space of the build's folder (the warehouse, its write-ahead log and DuckDB's spill,
sampled about once a second). The last round takes the first build's warehouse itself (no
copy), so the benchmark needs disk for two warehouses only with --runs above 1.

Prints a markdown table for docs/benchmarks.md and writes the raw numbers to
bench/results/incremental-<timestamp>.json. Each step's dbt run_results.json stays in the run
folder as run_results_<step>_<round>.json, for bench/thread_use.py (how busy dbt's threads
were).
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
from batches_bench import batch_folders  # noqa: E402
from node_medians import node_medians  # noqa: E402

#: The build `make run` runs: every model and data test, no unit tests (Makefile).
BUILD = ["build", "--exclude-resource-type", "unit_test"]
#: Each round's steps, in order, on one copy of the first build.
STEPS = (
    ("incremental", BUILD),
    ("nothing_new", BUILD),
    ("full", [*BUILD, "--full-refresh"]),
)
TABLES = ("customers", "orders", "order_items", "returns", "products", "sessions")
#: How many of the slowest models and tests the report names per step.
TOP = 12
WATCHED = [
    "int_customers_changed",
    "int_customer_daily_activity",
    "int_customer_features_monthly",
    "int_customer_segments_monthly",
]


def link_tree(source: Path, target: Path, new_day: dt.date, new: bool) -> None:
    """Hard-link each table's files into target: the files that land before new_day, or
    (new) the files of new_day."""
    for table in TABLES:
        (target / table).mkdir(parents=True, exist_ok=True)
        for path in sorted((source / table).iterdir()):
            day = path.name.split(".")[0]
            if (day == new_day.isoformat()) if new else (day < new_day.isoformat()):
                os.link(path, target / table / path.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--daily", type=int, default=11)
    parser.add_argument("--new-day", type=dt.date.fromisoformat, default=dt.date(2026, 9, 21))
    parser.add_argument("--work", type=Path, default=Path("/tmp/segmentation-bench"))
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--ref", default="HEAD", help="commit to build (a git archive snapshot)")
    parser.add_argument(
        "--fresh-parse", action="store_true", help="a dbt target folder per step: no reused parse"
    )
    parser.add_argument(
        "--no-full", action="store_true", help="no full refresh: steps against the first build"
    )
    args = parser.parse_args()
    steps = [s for s in STEPS if not (args.no_full and s[0] == "full")]
    run_bench.snapshot(args.ref, args.work)

    data = run_bench.generate(args.customers, args.work)
    batched = batch_folders(Path(data["raw"]), f"raw_daily_{args.daily}d", [], args.daily)
    work = args.work / "runs" / "incremental"
    # every build runs in live/ (one warehouse path, one dbt target); base/ keeps the first
    raw, base, live = work / "raw", work / "base", work / "live"
    results = {"machine": run_bench.machine(), "commit": run_bench.PROJECT["commit"],
               "customers": args.customers,
               "new_day": args.new_day.isoformat(), "fresh_parse": args.fresh_parse,
               "steps": [step for step, _ in steps], "runs": []}  # fmt: skip
    out = run_bench.RESULTS / f"incremental-{dt.datetime.now():%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)

    run_bench.fresh(work)
    base.mkdir()
    live.mkdir()
    target = None if args.fresh_parse else live / "target"  # None: one per step

    link_tree(batched, raw, args.new_day, new=False)
    print(f"[{args.customers:,}] first build (the files before {args.new_day}) ...", flush=True)
    first = run_bench.dbt_step(BUILD, live, str(raw), "first", args.timeout, target)
    results["first"] = first
    out.write_text(json.dumps(results, indent=1, default=str))
    if not first["ok"]:
        raise SystemExit(f"the first build failed: see {live / 'first.log'}")
    shutil.move(live / "warehouse.duckdb", base / "warehouse.duckdb")
    for run in range(1, args.runs + 1):
        # one round needs no copy of the first build: at 10M customers each copy is tens of GB
        keep = shutil.copy if run < args.runs else shutil.move
        keep(base / "warehouse.duckdb", live / "warehouse.duckdb")
        for path in raw.glob(f"*/{args.new_day}.*"):  # as the first build saw it, then the day
            path.unlink()
        link_tree(batched, raw, args.new_day, new=True)
        for step, dbt_args in steps:
            print(f"[{args.customers:,} run {run}] {step} ...", flush=True)
            name = f"{step}_{run}"
            record = run_bench.dbt_step(dbt_args, live, str(raw), name, args.timeout, target)
            record.update(step=step, run=run)
            # each step's node timings, for bench/thread_use.py (the shared target keeps
            # only the last step's)
            step_results = (target or live / f"target_{name}") / "run_results.json"
            if step_results.is_file():
                shutil.copy(step_results, live / f"run_results_{name}.json")
            results["runs"].append(record)
            out.write_text(json.dumps(results, indent=1, default=str))
        shutil.rmtree(live / "duckdb_tmp", ignore_errors=True)
    (live / "warehouse.duckdb").unlink(missing_ok=True)
    print(report(results))
    print(f"raw numbers: {out}")


def report(results: dict) -> str:
    def runs(step: str) -> list[dict]:
        return [r for r in results["runs"] if r["step"] == step and r["ok"]]

    def med(values: list[float]) -> float:
        return statistics.median(values) if values else float("nan")

    lines = [
        "| customers | step | median s (runs) | dbt's node time s | peak GB | peak disk GB | "
        + " | ".join(f"{m} s" for m in WATCHED)
        + " |",
        "|---:|---|---:|---:|---:|---:|" + "---:|" * len(WATCHED),
    ]
    walls = {}
    steps = results.get("steps", [step for step, _ in STEPS])
    for step in steps:
        rs = runs(step)
        walls[step] = med([r["wall_s"] for r in rs])
        each = ", ".join(f"{r['wall_s']:.1f}" for r in rs)
        models = " | ".join(
            f"{med([r['models'][m]['time'] for r in rs if m in r['models']]):.1f}" for m in WATCHED
        )
        peak = med([r["peak_rss_gb"] for r in rs])
        # the live folder: the warehouse, its write-ahead log and DuckDB's spill
        disk = med([r["peak_disk_gb"] for r in rs if r.get("peak_disk_gb") is not None])
        nodes = med([r["dbt_elapsed_s"] for r in rs if r.get("dbt_elapsed_s") is not None])
        lines.append(
            f"| {results['customers']:,} | {step} | {walls[step]:.1f} ({each}) | {nodes:.1f} | "
            f"{peak:.2f} | {disk:.2f} | {models} |"
        )
    if "full" in steps:
        reference, reference_name = walls["full"], "full"
    else:  # --no-full: the first build, every file but the new day's
        first = results["first"]
        reference, reference_name = first["wall_s"], "first build"
        nodes, disk = (first.get(key) or float("nan") for key in ("dbt_elapsed_s", "peak_disk_gb"))
        lines.append(
            f"\nfirst build (every file before the new day): {first['wall_s']:.1f} s, dbt's node "
            f"time {nodes:.1f} s, peak {first['peak_rss_gb']:.2f} GB, peak disk {disk:.2f} GB"
        )
    for step in ("incremental", "nothing_new"):
        lines.append(f"\n{step} / {reference_name}: {walls[step] / reference:.2f}x")
    for step in steps:
        rs = runs(step)
        times = {name: seconds for name, (_, seconds) in node_medians(results, step).items()}
        largest = sorted(times.items(), key=lambda item: -item[1])[:TOP]
        summed = med([sum(m["time"] for m in r["models"].values()) for r in rs])
        lines.append(
            f"\n{step}: summed model and test time {summed:.1f} s; largest (median s): "
            + ", ".join(f"`{name}` {t:.1f}" for name, t in largest)
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
