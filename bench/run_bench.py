"""End-to-end benchmark of the project against two baselines, on the same generated files.

For each size N (customers, seed 42) the demo data is generated into a work folder under /tmp
(never into data/), then, RUNS times (3 up to 1,000,000 customers, once above), each on a fresh
DuckDB file:

  segments  `dbt build --select +customer_segments --exclude test_type:data test_type:unit`:
            raw files to a segment for every customer, fit included, no tests
  full      `dbt build` (every model and test), then `segmentation publish`
  pandas    bench/baseline_pandas.py (BASELINE: pandas + scikit-learn, KMeans on everyone)
  floor     bench/baseline_duckdb.py (FLOOR: RFM + returns as one SQL statement, no dbt)

Each step records wall time, peak RSS of the whole process tree (sampled from /proc every
0.2 s), the load average before and after, and for dbt the per-model times from its
run_results.json (a --target-path per run). Results are appended to a JSON file under
bench/results/ after every step; the markdown tables for docs/benchmarks.md are printed at
the end (or with --report FILE... from earlier result files).

usage: run_bench.py --sizes "2000 60000 1000000" [--runs 3] [--big-runs 1]
       run_bench.py --report bench/results/*.json [--svg bench/scaling.svg]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from procmem import run_measured  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
RESULTS = ROOT / "bench" / "results"
SEED = 42
BIG = 1_000_000
FIT_MODELS = ["segment_k_selection", "segment_centroids", "segment_stability", "segment_fit_sample"]
#: The fit's input (named int_segmentation_features before 7e6c892); its SQL ancestors are
#: "the SQL feature models" compared with the floor.
FEATURE_MARTS = ["int_customer_features_current", "int_segmentation_features"]
GB = 1024**3
#: The "segments" step: raw files to a segment for every customer, fit included, no tests.
SEGMENTS_SELECT = [
    "build", "--select", "+customer_segments", "--exclude", "test_type:data", "test_type:unit",
]  # fmt: skip
#: The project that is built: a `git archive` snapshot of --ref (default HEAD) under the work
#: folder, so that edits made to the working tree while the benchmark runs do not leak in;
#: --live builds the working tree itself. Set in main().
PROJECT = {"dir": ROOT, "pythonpath": None, "commit": None}


# ---------------------------------------------------------------- measuring


def machine() -> dict:
    mem_kb = 0
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    cpu = ""
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = {}
    for pkg in ["dbt-core", "dbt-duckdb", "duckdb", "pandas", "scikit-learn", "kneed"]:
        from importlib.metadata import version

        versions[pkg] = version(pkg)
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "mem_gb": round(mem_kb / 1024**2, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": versions,
        "memory_limit": os.environ.get("SEGMENTATION_MEMORY_LIMIT", "4GB (default)"),
        "dbt_threads": os.environ.get("SEGMENTATION_THREADS", "2 (default)"),
    }


def generate(n: int, work: Path) -> dict:
    data = work / "data" / str(n)
    info: dict = {"raw": str(data / "raw")}
    if not (data / ".done").exists():
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
        m = run_measured(
            [str(BIN / "segmentation"), "generate", "--customers", str(n), "--seed", str(SEED),
             "--out", str(data / "raw"), "--truth", str(data / "truth")],
            log_path=str(data / "generate.log"),
        )  # fmt: skip
        if m.returncode != 0:
            raise SystemExit(f"generate failed, see {data / 'generate.log'}")
        (data / ".done").write_text(json.dumps({"wall_s": m.wall_s, "peak": m.peak_rss_bytes}))
    done = json.loads((data / ".done").read_text() or "{}")
    info["generate_wall_s"] = done.get("wall_s")
    files = sorted((data / "raw").glob("*.parquet"))
    info["rows"] = {f.stem: pq.ParquetFile(f).metadata.num_rows for f in files}
    info["raw_bytes"] = sum(f.stat().st_size for f in (data / "raw").glob("*.parquet"))
    return info


def model_times(target: Path) -> dict:
    """name -> {time, status, type} from run_results.json (+ manifest for the language)."""
    path = target / "run_results.json"
    if not path.exists():
        return {}
    manifest = json.loads((target / "manifest.json").read_text())
    out = {}
    for result in json.loads(path.read_text())["results"]:
        uid = result["unique_id"]
        node = manifest["nodes"].get(uid, {})
        kind = uid.split(".")[0]
        name = node.get("name", uid.split(".")[-1]) if kind != "test" else uid
        out[name] = {
            "time": result["execution_time"],
            "status": result["status"],
            "type": kind,
            "language": node.get("language"),
            "path": node.get("original_file_path"),
        }
    return out


def feature_model_names(target: Path) -> list[str]:
    """The SQL models the segmentation features are built from (ancestors + themselves)."""
    manifest = json.loads((target / "manifest.json").read_text())
    parents = manifest["parent_map"]
    todo = [
        f"model.segmentation.{name}"
        for name in FEATURE_MARTS
        if f"model.segmentation.{name}" in manifest["nodes"]
    ]
    seen: set[str] = set()
    while todo:
        uid = todo.pop()
        if uid in seen or not uid.startswith("model."):
            continue
        seen.add(uid)
        todo.extend(parents.get(uid, []))
    return sorted(manifest["nodes"][uid]["name"] for uid in seen)


def project_env() -> dict[str, str]:
    env = dict(os.environ)
    if PROJECT["pythonpath"]:
        # the snapshot's own package wins over the editable install of the working tree
        env["PYTHONPATH"] = PROJECT["pythonpath"]
    return env


def snapshot(ref: str, work: Path) -> None:
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", ref], check=True, capture_output=True, text=True
    ).stdout.strip()
    snap = work / "project" / commit[:12]
    if not (snap / "dbt_project.yml").exists():
        snap.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(snap)], input=archive, check=True)
    PROJECT.update(dir=snap, pythonpath=str(snap / "src"), commit=commit)


def dbt_step(
    args: list[str], run_dir: Path, raw: str, name: str, timeout: float, target: Path | None = None
) -> dict:
    """One dbt command, measured. target: dbt's target path (default: one per step name, so
    every step parses the project from scratch; a shared one lets dbt reuse its parse)."""
    target = target or run_dir / f"target_{name}"
    (target / "run_results.json").unlink(missing_ok=True)  # a shared target's last step's
    env = {
        **project_env(),
        "DBT_PROFILES_DIR": str(PROJECT["dir"] / "profiles"),
        "SEGMENTATION_DB": str(run_dir / "warehouse.duckdb"),
        "SEGMENTATION_TEMP_DIR": str(run_dir / "duckdb_tmp"),
        "SEGMENTATION_RAW": raw,
    }
    cmd = [
        str(BIN / "dbt"), *args, "--project-dir", str(PROJECT["dir"]),
        "--target-path", str(target),
        "--log-path", str(run_dir / f"logs_{name}"), "--vars", json.dumps({"raw_path": raw}),
    ]  # fmt: skip
    m = run_measured(
        cmd,
        env=env,
        cwd=str(PROJECT["dir"]),
        log_path=str(run_dir / f"{name}.log"),
        timeout_s=timeout,
        # the warehouse, its write-ahead log and DuckDB's spill (SEGMENTATION_TEMP_DIR) live here
        disk_folder=str(run_dir),
    )
    step = measurement_dict(m)
    step["command"] = "dbt " + " ".join(args)
    warehouse = run_dir / "warehouse.duckdb"
    step["warehouse_gb"] = warehouse.stat().st_size / GB if warehouse.exists() else None
    step["models"] = model_times(target)
    results = target / "run_results.json"
    # dbt's own time for the nodes; the rest of wall_s is its start, parse and artifacts
    step["dbt_elapsed_s"] = (
        json.loads(results.read_text())["elapsed_time"] if results.exists() else None
    )
    if name == "segments" and (target / "manifest.json").exists():
        step["feature_models"] = feature_model_names(target)
    return step


def measurement_dict(m) -> dict:
    return {
        "wall_s": m.wall_s,
        "peak_rss_gb": m.peak_rss_bytes / GB,
        "ok": m.returncode == 0 and not m.timed_out and not m.over_memory_budget,
        "returncode": m.returncode,
        "timed_out": m.timed_out,
        "over_memory_budget": m.over_memory_budget,
        "peak_disk_gb": None if m.peak_disk_bytes is None else m.peak_disk_bytes / GB,
        "load_before": m.load_before,
        "load_after": m.load_after,
    }


def fresh(run_dir: Path) -> None:
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)


def bench_size(n: int, runs: int, work: Path, opts, results: dict, save) -> None:
    data = generate(n, work)
    entry = {"customers": n, "data": data, "runs": []}
    results["sizes"].append(entry)
    save()
    raw = data["raw"]
    for run in range(1, runs + 1):
        record: dict = {"run": run, "started": dt.datetime.now().isoformat(timespec="seconds")}
        entry["runs"].append(record)
        run_dir = work / "runs" / opts.tag / f"{n}_{run}"
        run_dir.mkdir(parents=True, exist_ok=True)  # also when --skip leaves only pandas/floor
        steps = [s for s in ["segments", "full", "pandas", "floor"] if s not in opts.skip]
        for step in steps:
            print(f"[{n:,} run {run}] {step} ... (load {os.getloadavg()[0]:.2f})", flush=True)
            if step == "segments":
                fresh(run_dir)
                record[step] = dbt_step(SEGMENTS_SELECT, run_dir, raw, "segments", opts.dbt_timeout)
            elif step == "full":
                fresh(run_dir)
                record[step] = dbt_step(["build"], run_dir, raw, "full", opts.dbt_timeout)
                if record[step]["ok"]:
                    m = run_measured(
                        [str(BIN / "segmentation"), "publish",
                         "--db", str(run_dir / "warehouse.duckdb"), "--bi", str(run_dir / "bi"),
                         "--manifest", str(run_dir / "target_full" / "manifest.json")],
                        env=project_env(), log_path=str(run_dir / "publish.log"),
                    )  # fmt: skip
                    record["publish"] = measurement_dict(m)
            elif step == "pandas":
                if n > opts.pandas_max or (run > opts.pandas_runs_big and n > BIG):
                    continue
                out = run_dir / "pandas.json"
                m = run_measured(
                    [str(BIN / "python"), str(ROOT / "bench" / "baseline_pandas.py"), raw,
                     "--json", str(out), "--n-init", opts.pandas_n_init],
                    log_path=str(run_dir / "pandas.log"), timeout_s=opts.pandas_timeout,
                    max_rss_bytes=int(opts.pandas_max_rss_gb * GB),
                )  # fmt: skip
                record[step] = measurement_dict(m)
                if out.exists():
                    record[step]["detail"] = json.loads(out.read_text())
            elif step == "floor":
                out = run_dir / "floor.json"
                m = run_measured(
                    [str(BIN / "python"), str(ROOT / "bench" / "baseline_duckdb.py"), raw,
                     "--json", str(out)],
                    log_path=str(run_dir / "floor.log"), timeout_s=opts.dbt_timeout,
                )  # fmt: skip
                record[step] = measurement_dict(m)
                if out.exists():
                    record[step]["detail"] = json.loads(out.read_text())
            got = record.get(step)
            if got:
                state = "ok" if got["ok"] else ("TIMEOUT" if got["timed_out"] else "FAILED")
                state = "OVER MEMORY BUDGET" if got.get("over_memory_budget") else state
                print(
                    f"    {state} {got['wall_s']:.1f} s, peak {got['peak_rss_gb']:.2f} GB",
                    flush=True,
                )
            save()
        if not opts.keep:
            # keep logs and run_results, drop the databases and published files
            for path in [run_dir / "warehouse.duckdb", run_dir / "bi", run_dir / "duckdb_tmp"]:
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                elif path.exists():
                    path.unlink()
            for wal in run_dir.glob("*.wal"):
                wal.unlink()


# ---------------------------------------------------------------- reporting


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, digits=1, suffix=""):
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    return f"{value:,.{digits}f}{suffix}"


def step_values(entry, step, key="wall_s", only_ok=True):
    out = []
    for run in entry["runs"]:
        got = run.get(step)
        if got and (got["ok"] or not only_ok):
            out.append(got[key])
    return out


def model_median(entry, step, names):
    """Median over runs of the summed execution time of the named models."""
    sums = []
    for run in entry["runs"]:
        got = run.get(step)
        if not got or not got["ok"]:
            continue
        sums.append(sum(got["models"][n]["time"] for n in names if n in got["models"]))
    return med(sums)


def merge(files: list[Path]) -> dict:
    merged: dict = {"machine": None, "sizes": []}
    by_size: dict[int, dict] = {}
    for file in files:
        data = json.loads(file.read_text())
        merged["machine"] = merged["machine"] or data.get("machine")
        merged.setdefault("commit", data.get("commit"))
        for entry in data["sizes"]:
            if not entry["runs"]:
                continue
            if entry["customers"] in by_size:
                by_size[entry["customers"]]["runs"].extend(entry["runs"])
            else:
                by_size[entry["customers"]] = entry
    merged["sizes"] = [by_size[n] for n in sorted(by_size)]
    return merged


def status_cell(entry, step):
    vals = step_values(entry, step)
    if vals:
        return None
    runs = [r.get(step) for r in entry["runs"] if r.get(step)]
    if not runs:
        return "not run"
    if any(r["timed_out"] for r in runs):
        return f"timeout ({runs[0]['wall_s'] / 60:.0f} min)"
    if any(r.get("over_memory_budget") for r in runs):
        over = [r for r in runs if r.get("over_memory_budget")][0]
        return (
            f"stopped at the memory budget ({over['peak_rss_gb']:.1f} GB after "
            f"{over['wall_s'] / 60:.1f} min)"
        )
    return "failed"


def report(results: dict) -> str:
    lines = []
    mach = results.get("machine") or {}
    lines.append(
        f"Project: commit {results.get('commit', 'n/a')}. "
        f"Machine: {mach.get('cores')} cores ({mach.get('cpu')}), {mach.get('mem_gb')} GB RAM, "
        f"Linux {mach.get('kernel')}, Python {mach.get('python')}, "
        + ", ".join(f"{k} {v}" for k, v in (mach.get("versions") or {}).items())
        + f"; DuckDB memory_limit {mach.get('memory_limit')}, dbt threads "
        + f"{mach.get('dbt_threads', '2 (default)')}; shared machine (load below)."
    )
    lines.append("")
    lines.append("### Project: medians (wall s, peak RSS of the process tree GB)")
    lines.append("")
    lines.append(
        "| customers | order lines | ok runs seg/full/pandas/floor | time to segments | peak "
        "| lines/s | full build | peak | lines/s | publish | build + publish "
        "| load 1-min (min-max) |"
    )
    lines.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for e in results["sizes"]:
        n_lines = e["data"]["rows"].get("order_items", 0)
        seg = med(step_values(e, "segments"))
        full = med(step_values(e, "full"))
        pub = med(step_values(e, "publish"))
        loads = [x for r in e["runs"] for s in ("segments", "full", "pandas", "floor")
                 if r.get(s) for x in (r[s]["load_before"][0], r[s]["load_after"][0])]  # fmt: skip
        load = f"{min(loads):.1f}-{max(loads):.1f}" if loads else "n/a"
        both = (full + pub) if full is not None and pub is not None else None
        counts = "/".join(
            str(len(step_values(e, st))) for st in ("segments", "full", "pandas", "floor")
        )
        failed = len(step_values(e, "full", only_ok=False)) - len(step_values(e, "full"))
        if failed:
            counts += f" ({failed} full failed)"
        lines.append(
            f"| {e['customers']:,} | {n_lines:,} | {counts} "
            f"| {fmt(seg) if seg else status_cell(e, 'segments')} "
            f"| {fmt(med(step_values(e, 'segments', 'peak_rss_gb')), 2)} "
            f"| {fmt(n_lines / seg if seg else None, 0)} "
            f"| {fmt(full) if full else status_cell(e, 'full')} "
            f"| {fmt(med(step_values(e, 'full', 'peak_rss_gb')), 2)} "
            f"| {fmt(n_lines / full if full else None, 0)} | {fmt(pub)} | {fmt(both)} | {load} |"
        )
    lines.append("")
    lines.append("### Baselines and ratios (medians, same files)")
    lines.append("")
    lines.append(
        "| customers | pandas baseline s | pandas peak GB | pandas ok runs "
        "| pandas / time to segments | same, best runs | SQL feature models s (sum) "
        "| bare DuckDB floor s | feature models / floor | same without staging (validation) |"
    )
    lines.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for e in results["sizes"]:
        seg = med(step_values(e, "segments"))
        pdt = med(step_values(e, "pandas"))
        pd_cell = fmt(pdt) if pdt else status_cell(e, "pandas")
        floor = med(step_values(e, "floor"))
        names = next((r["segments"].get("feature_models", []) for r in e["runs"]
                      if r.get("segments")), [])  # fmt: skip
        feat = model_median(e, "segments", names)
        no_staging = model_median(
            e, "segments", [n for n in names if not n.startswith(("base_", "stg_"))]
        )
        n_pd = len(step_values(e, "pandas"))
        lines.append(
            f"| {e['customers']:,} | {pd_cell} "
            f"| {fmt(med(step_values(e, 'pandas', 'peak_rss_gb')), 2)} | {n_pd} "
            f"| {fmt(pdt / seg if pdt and seg else None, 2, 'x')} "
            f"| {fmt(best_ratio(e), 2, 'x')} | {fmt(feat)} | {fmt(floor, 2)} "
            f"| {fmt(feat / floor if feat and floor else None, 1, 'x')} "
            f"| {fmt(no_staging / floor if no_staging and floor else None, 1, 'x')} |"
        )
    small = [e for e in results["sizes"] if step_values(e, "full")]
    if small:
        e = small[0]
        lines.append("")
        lines.append(
            f"dbt fixed cost (full build on {e['customers']:,} customers): "
            f"{fmt(med(step_values(e, 'full')))} s; time to segments "
            f"{fmt(med(step_values(e, 'segments')))} s."
        )
    lines.append("")
    lines.append("### Per-model times, full build (median s)")
    lines.append("")
    sizes = [e for e in results["sizes"] if step_values(e, "full")]
    if sizes:
        last = sizes[-1]
        totals: dict[str, float] = {}
        for run in last["runs"]:
            for name, m in (run.get("full") or {}).get("models", {}).items():
                if m["type"] == "model":
                    totals[name] = totals.get(name, 0) + m["time"]
        top = sorted(totals, key=totals.get, reverse=True)[:15]
        top += [m for m in FIT_MODELS if m not in top]
        header = " | ".join(f"{e['customers']:,}" for e in sizes)
        lines.append(f"| model | {header} |")
        lines.append("|---|" + "---:|" * len(sizes))
        for name in top:
            cells = " | ".join(fmt(model_median(e, "full", [name]), 1) for e in sizes)
            lines.append(f"| {name} | {cells} |")
        tests = " | ".join(fmt(sum_type(e, "full", "test"), 1) for e in sizes)
        models = " | ".join(fmt(sum_type(e, "full", "model"), 1) for e in sizes)
        lines.append(f"| *all models (sum)* | {models} |")
        lines.append(f"| *all tests (sum)* | {tests} |")
        lines.append("")
        lines.append("### Full build: summed model/test time by layer (median s)")
        lines.append("")
        lines += layer_table(results)
    return "\n".join(lines)


TREND_MODELS = {
    "int_trend_snapshots",
    "int_customer_features_monthly",
    "int_customer_segments_monthly",
    "segment_trends",
    "segment_migration",
}


def layer(name: str, info: dict) -> str:
    if info["type"] != "model":
        return "tests" if info["type"] == "test" else "unit tests"
    if info.get("language") == "python":
        return "python (fit)"
    if name in TREND_MODELS:
        return "monthly trends"
    if name.startswith("quarantine_"):
        return "quarantine"
    if name.startswith(("stg_", "base_")):
        return "staging"
    if name.startswith("int_"):
        return "intermediate"
    return "marts"


def layer_table(results: dict) -> list[str]:
    sizes = [e for e in results["sizes"] if step_values(e, "full")]
    layers = ["staging", "quarantine", "intermediate", "marts", "monthly trends"]
    layers += ["python (fit)", "tests", "unit tests"]
    out = [
        "| layer | " + " | ".join(f"{e['customers']:,}" for e in sizes) + " |",
        "|---|" + "---:|" * len(sizes),
    ]
    for name in layers:
        cells = []
        for e in sizes:
            sums = []
            for run in e["runs"]:
                got = run.get("full")
                if got and got["ok"]:
                    sums.append(
                        sum(m["time"] for k, m in got["models"].items() if layer(k, m) == name)
                    )
            cells.append(fmt(med(sums)))
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return out


def best_ratio(entry):
    """Fastest pandas run over fastest time to segments: the least load-sensitive ratio."""
    pdt, seg = step_values(entry, "pandas"), step_values(entry, "segments")
    return min(pdt) / min(seg) if pdt and seg else None


def sum_type(entry, step, kind):
    sums = []
    for run in entry["runs"]:
        got = run.get(step)
        if got and got["ok"]:
            sums.append(sum(m["time"] for m in got["models"].values() if m["type"] == kind))
    return med(sums)


def svg(results: dict) -> str:
    """Log-log plot of wall time against customers for each measured step."""
    series = {
        "full build": ("full", "#1f77b4"),
        "time to segments": ("segments", "#2ca02c"),
        "pandas baseline": ("pandas", "#d62728"),
        "DuckDB floor": ("floor", "#7f7f7f"),
    }
    pts = {
        label: [(e["customers"], med(step_values(e, step))) for e in results["sizes"]
                if med(step_values(e, step))]
        for label, (step, _) in series.items()
    }  # fmt: skip
    import math

    xs = [x for p in pts.values() for x, _ in p] or [1, 10]
    ys = [y for p in pts.values() for _, y in p] or [1, 10]
    x0, x1 = math.floor(math.log10(min(xs))), math.ceil(math.log10(max(xs)))
    y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    w, h, left, bottom, top, right = 560, 340, 60, 40, 20, 150

    def px(x):
        return left + (math.log10(x) - x0) / max(x1 - x0, 1) * (w - left - right)

    def py(y):
        return h - bottom - (math.log10(y) - y0) / max(y1 - y0, 1) * (h - top - bottom)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        'font-family="sans-serif" font-size="11">',
        f'<rect width="{w}" height="{h}" fill="white"/>',
    ]
    for d in range(x0, x1 + 1):
        out.append(f'<line x1="{px(10**d):.1f}" y1="{top}" x2="{px(10**d):.1f}" '
                   f'y2="{h - bottom}" stroke="#ddd"/>')  # fmt: skip
        out.append(f'<text x="{px(10**d):.1f}" y="{h - bottom + 15}" text-anchor="middle">'
                   f"{10**d:,}</text>")  # fmt: skip
    for d in range(y0, y1 + 1):
        out.append(f'<line x1="{left}" y1="{py(10**d):.1f}" x2="{w - right}" '
                   f'y2="{py(10**d):.1f}" stroke="#ddd"/>')  # fmt: skip
        out.append(f'<text x="{left - 5}" y="{py(10**d) + 4:.1f}" text-anchor="end">'
                   f"{10**d:g} s</text>")  # fmt: skip
    out.append(f'<text x="{(w - right + left) / 2}" y="{h - 5}" text-anchor="middle">'
               "customers (log)</text>")  # fmt: skip
    for i, (label, (_, colour)) in enumerate(series.items()):
        p = pts[label]
        if p:
            path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in p)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                       'stroke-width="2"/>')  # fmt: skip
            out += [f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}"/>'
                    for x, y in p]  # fmt: skip
        ly = top + 15 + i * 18
        out.append(f'<line x1="{w - right + 10}" y1="{ly - 4}" x2="{w - right + 30}" '
                   f'y2="{ly - 4}" stroke="{colour}" stroke-width="2"/>')  # fmt: skip
        out.append(f'<text x="{w - right + 35}" y="{ly}">{label}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="60000 1000000", help="customer counts")
    parser.add_argument("--runs", type=int, default=3, help="runs per size up to 1,000,000")
    parser.add_argument("--big-runs", type=int, default=1, help="runs per size above 1,000,000")
    parser.add_argument("--work", type=Path, default=Path("/tmp/segmentation-bench"))
    parser.add_argument("--out", type=Path, help="results JSON (default bench/results/<ts>.json)")
    parser.add_argument("--skip", nargs="*", default=[], help="steps: segments full pandas floor")
    parser.add_argument("--pandas-timeout", type=float, default=1800.0)
    parser.add_argument(
        "--pandas-max-rss-gb", type=float, default=20.0,
        help="stop the pandas baseline when its RSS passes this (default 20 GB of 24)",
    )  # fmt: skip
    parser.add_argument(
        "--pandas-n-init", default="10",
        help="KMeans starts per k in the pandas baseline: 10 (the seed, default) or auto",
    )  # fmt: skip
    parser.add_argument("--pandas-max", type=int, default=10**12, help="largest N for pandas")
    parser.add_argument("--pandas-runs-big", type=int, default=1, help="pandas runs above 1M")
    parser.add_argument("--dbt-timeout", type=float, default=4 * 3600.0)
    parser.add_argument("--keep", action="store_true", help="keep databases and BI files")
    parser.add_argument("--ref", default="HEAD", help="git ref to snapshot and build")
    parser.add_argument("--live", action="store_true", help="build the working tree itself")
    parser.add_argument(
        "--project", type=Path, help="build this project folder instead (e.g. a patched copy)"
    )
    parser.add_argument("--report", type=Path, nargs="*", help="only print tables from JSONs")
    parser.add_argument("--svg", type=Path, help="also write a log-log SVG plot here")
    opts = parser.parse_args()

    if opts.report is not None:
        results = merge(opts.report)
    else:
        work = opts.work.resolve()
        if str(work).startswith(str(ROOT / "data")):
            raise SystemExit("refusing to write into the project's data/ folder")
        sizes = [int(s.replace("_", "")) for s in opts.sizes.replace(",", " ").split()]
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = opts.out or RESULTS / f"bench-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
        opts.tag = out.stem
        if opts.project:
            project = opts.project.resolve()
            PROJECT.update(dir=project, pythonpath=str(project / "src"), commit=str(project))
        elif not opts.live:
            snapshot(opts.ref, work)
        results = {
            "machine": machine(),
            "argv": sys.argv,
            "project": str(PROJECT["dir"]),
            "commit": PROJECT["commit"] or "working tree",
            "sizes": [],
        }

        def save() -> None:
            out.write_text(json.dumps(results, indent=1))

        print(f"results: {out}", flush=True)
        for n in sizes:
            runs = opts.runs if n <= BIG else opts.big_runs
            start = time.perf_counter()
            bench_size(n, runs, work, opts, results, save)
            print(f"[{n:,}] done in {time.perf_counter() - start:.0f} s", flush=True)
        save()
    print(report(results))
    if opts.svg:
        opts.svg.write_text(svg(results))


if __name__ == "__main__":
    main()
