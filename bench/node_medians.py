"""Where one step of an incremental benchmark run spends its node time: from a results file
of bench/incremental_bench.py (bench/results/incremental-*.json), each dbt node's median
time over the step's rounds, summed per kind of node (model, data test, ...), the data
tests under a threshold counted apart (most of their time is dbt's own per node), and
every model with its median.

usage: .venv/bin/python bench/node_medians.py bench/results/incremental-XXXX.json
       [--step nothing_new] [--small 0.15]
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path


def node_medians(results: dict, step: str) -> dict[str, tuple[str, float]]:
    """Each node of the step's successful rounds: (kind, median seconds over the rounds that
    ran it)."""
    times: dict[str, list[float]] = defaultdict(list)
    kinds: dict[str, str] = {}
    for run in results["runs"]:
        if run["step"] != step or not run.get("ok", True):
            continue
        for node, timing in run["models"].items():
            times[node].append(float(timing["time"]))
            kinds[node] = timing.get("type") or "?"
    return {node: (kinds[node], statistics.median(values)) for node, values in times.items()}


def report(medians: dict[str, tuple[str, float]], small: float) -> str:
    per_kind: dict[str, list[float]] = defaultdict(list)
    for kind, seconds in medians.values():
        per_kind[kind].append(seconds)
    lines = [f"nodes: {len(medians)}; summed medians: {sum(s for _, s in medians.values()):.1f} s"]
    for kind, values in sorted(per_kind.items(), key=lambda item: -sum(item[1])):
        lines.append(f"  {kind}: {len(values)} nodes, {sum(values):.1f} s")
    tests = per_kind.get("test", [])
    under = [s for s in tests if s < small]
    lines.append(f"  tests under {small} s: {len(under)}, {sum(under):.1f} s")
    lines.append("models (median s):")
    models = sorted(
        ((seconds, node) for node, (kind, seconds) in medians.items() if kind == "model"),
        reverse=True,
    )
    lines.extend(f"  {seconds:6.2f}  {node}" for seconds, node in models)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--step", default="nothing_new", help="incremental, nothing_new or full")
    parser.add_argument("--small", type=float, default=0.15, help="seconds: a small data test")
    args = parser.parse_args()
    medians = node_medians(json.loads(args.results.read_text()), args.step)
    if not medians:
        raise SystemExit(f"no round of step {args.step!r} in {args.results}")
    print(report(medians, args.small))


if __name__ == "__main__":
    main()
