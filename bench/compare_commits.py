"""Two commits of the project side by side on the same generated files, runs interleaved.

For each size N (customers, seed 42, generated once under the work folder) and each of RUNS
rounds, the OLD and the NEW commit (git archive snapshots) each run, on a fresh DuckDB file:

  segments  `dbt build --select +customer_segments --exclude test_type:data test_type:unit`
  full      `dbt build` (every model and test)

Rounds alternate old, new, old, new, ... so that a slow phase of a shared machine hits both.
Wall time, peak RSS of the process tree and dbt's per-model times are saved to a JSON file
under bench/results/; the markdown tables for docs/benchmarks.md (medians, new / old ratios,
the trend models and the customer core models) are printed at the end, or with --report.

usage: compare_commits.py --old REF --new REF [--sizes "1000000"] [--runs 3]
       compare_commits.py --report bench/results/compare-*.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_bench  # noqa: E402
from run_bench import PROJECT, RESULTS, dbt_step, fmt, fresh, generate, machine, med, snapshot  # noqa: E402

#: Models of the monthly trends, in both layouts (a name a commit lacks counts as 0).
TREND_MODELS = [
    "int_trend_snapshots",
    "int_customer_features_monthly",
    "int_customer_segments_monthly",
    "segment_trends",
    "segment_migration",
]
#: Models from staged tables to today's customer metrics and features, in both layouts.
CORE_MODELS = [
    "int_order_items_joined_to_returns",
    "int_orders_aggregated_to_customers",
    "int_sessions_aggregated_to_customers",
    "int_segmentation_features",
    "int_order_lines",
    "int_customer_daily_activity",
    "int_snapshot_dates",
    "int_customer_features_current",
]
STEPS = {
    "segments": run_bench.SEGMENTS_SELECT,
    "full": ["build"],
}  # fmt: skip


def run(opts) -> dict:
    work = opts.work.resolve()
    sizes = [int(s.replace("_", "")) for s in opts.sizes.replace(",", " ").split()]
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = opts.out or RESULTS / f"compare-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    projects = {}
    for label, ref in [("old", opts.old), ("new", opts.new)]:
        snapshot(ref, work)
        projects[label] = dict(PROJECT)
    results = {
        "machine": machine(),
        "argv": sys.argv,
        "commits": {label: p["commit"] for label, p in projects.items()},
        "sizes": [],
    }
    print(f"results: {out}", flush=True)
    for n in sizes:
        data = generate(n, work)
        entry = {"customers": n, "data": data, "runs": []}
        results["sizes"].append(entry)
        for round_ in range(1, opts.runs + 1):
            for label in ["old", "new"]:
                PROJECT.update(projects[label])
                record = {"round": round_, "commit": label}
                entry["runs"].append(record)
                run_dir = work / "compare" / out.stem / f"{n}_{label}_{round_}"
                for step in [s for s in STEPS if s not in opts.skip]:
                    load = os.getloadavg()[0]
                    print(f"[{n:,} {label} round {round_}] {step} (load {load:.2f})", flush=True)
                    fresh(run_dir)
                    record[step] = dbt_step(STEPS[step], run_dir, data["raw"], step, opts.timeout)
                    got = record[step]
                    state = "ok" if got["ok"] else "FAILED"
                    print(f"    {state} {got['wall_s']:.1f} s, peak {got['peak_rss_gb']:.2f} GB")
                    out.write_text(json.dumps(results, indent=1))
                for path in [run_dir / "warehouse.duckdb", run_dir / "duckdb_tmp"]:
                    if path.is_dir():
                        run_bench.shutil.rmtree(path, ignore_errors=True)
                    elif path.exists():
                        path.unlink()
    out.write_text(json.dumps(results, indent=1))
    return results


def model_sum(record: dict, step: str, names: list[str]) -> float | None:
    models = (record.get(step) or {}).get("models") or {}
    if not record.get(step, {}).get("ok"):
        return None
    return sum(models[name]["time"] for name in names if name in models)


def values(entry: dict, label: str, step: str, key: str) -> list:
    return [
        r[step][key] for r in entry["runs"] if r["commit"] == label and r.get(step, {}).get("ok")
    ]


def ratio(new, old):
    return f"{new / old:.2f}x" if new is not None and old else "n/a"


def report(results: dict) -> str:
    lines = [
        f"Commits: old {results['commits']['old'][:12]}, new {results['commits']['new'][:12]}. "
        f"Machine: {results['machine']['cores']} cores, {results['machine']['mem_gb']} GB, "
        f"DuckDB memory_limit {results['machine']['memory_limit']}, dbt threads "
        f"{results['machine']['dbt_threads']}.",
        "",
        "| customers | step | old: median s (runs) | new: median s (runs) | new / old "
        "| old peak GB | new peak GB |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]  # fmt: skip
    for entry in results["sizes"]:
        for step in STEPS:
            old, new = values(entry, "old", step, "wall_s"), values(entry, "new", step, "wall_s")
            if not old and not new:
                continue
            runs_old = ", ".join(f"{v:.1f}" for v in old)
            runs_new = ", ".join(f"{v:.1f}" for v in new)
            peak_old = med(values(entry, "old", step, "peak_rss_gb"))
            peak_new = med(values(entry, "new", step, "peak_rss_gb"))
            lines.append(
                f"| {entry['customers']:,} | {step} | {fmt(med(old))} ({runs_old}) | "
                f"{fmt(med(new))} ({runs_new}) | {ratio(med(new), med(old))} | "
                f"{fmt(peak_old, 2)} | {fmt(peak_new, 2)} |"
            )
    lines += [
        "",
        "Summed model times inside the full build (median s; dbt's per-model times, two "
        "threads may overlap):",
        "",
        "| customers | models | old | new | new / old |",
        "|---:|---|---:|---:|---:|",
    ]
    for entry in results["sizes"]:
        for title, names in [("monthly trends", TREND_MODELS), ("customer core", CORE_MODELS)]:
            old = med([model_sum(r, "full", names) for r in entry["runs"] if r["commit"] == "old"])
            new = med([model_sum(r, "full", names) for r in entry["runs"] if r["commit"] == "new"])
            lines.append(
                f"| {entry['customers']:,} | {title} | {fmt(old)} | {fmt(new)} "
                f"| {ratio(new, old)} |"
            )
    lines += [
        "",
        "Per model, full build (median s):",
        "",
        "| model | old | new |",
        "|---|---:|---:|",
    ]
    for entry in results["sizes"]:
        for name in TREND_MODELS + CORE_MODELS:
            got = {
                label: med(
                    [
                        r["full"]["models"][name]["time"]
                        for r in entry["runs"]
                        if r["commit"] == label
                        and r.get("full", {}).get("ok")
                        and name in r["full"]["models"]
                    ]
                )
                for label in ["old", "new"]
            }
            if got["old"] is None and got["new"] is None:
                continue
            lines.append(
                f"| {name} ({entry['customers']:,}) | {fmt(got['old'])} | {fmt(got['new'])} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", help="git ref of the old commit")
    parser.add_argument("--new", default="HEAD", help="git ref of the new commit (default HEAD)")
    parser.add_argument("--sizes", default="1000000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip", nargs="*", default=[], help="steps: segments full")
    parser.add_argument("--work", type=Path, default=Path("/tmp/segmentation-bench"))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--timeout", type=float, default=4 * 3600.0)
    parser.add_argument("--report", type=Path, nargs="*")
    opts = parser.parse_args()
    if opts.report:
        for path in opts.report:
            print(report(json.loads(path.read_text())))
        return
    if not opts.old:
        parser.error("--old is required")
    start = time.perf_counter()
    results = run(opts)
    print(f"done in {time.perf_counter() - start:.0f} s")
    print(report(results))


if __name__ == "__main__":
    main()
