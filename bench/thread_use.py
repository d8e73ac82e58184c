"""How busy dbt's threads were in one build: from a run_results.json, the time with 0, 1, 2,
... nodes running at once, the nodes' summed time, and the slowest nodes with their start and
end (seconds from the build's first node).

Reads the timing dbt writes per node (compile and execute, started_at and completed_at), so
it needs no log. A build whose threads were busy most of the time is bound by the work it
does, not by the order of its graph: only less work makes it faster.

usage: .venv/bin/python bench/thread_use.py TARGET/run_results.json [--top 15]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Span:
    node: str
    start: float  # seconds from the first node's start
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


def spans(run_results: dict) -> list[Span]:
    """Each node's span from its first timing start to its last timing end."""
    raw = []
    for result in run_results["results"]:
        times = [
            (
                dt.datetime.fromisoformat(t["started_at"]),
                dt.datetime.fromisoformat(t["completed_at"]),
            )
            for t in result["timing"]
            if t.get("started_at") and t.get("completed_at")
        ]
        if times:
            raw.append((result["unique_id"], min(s for s, _ in times), max(e for _, e in times)))
    if not raw:
        return []
    first = min(start for _, start, _ in raw)
    return [
        Span(node, (start - first).total_seconds(), (end - first).total_seconds())
        for node, start, end in raw
    ]


def concurrency(nodes: list[Span], step: float = 0.1) -> Counter[int]:
    """Seconds of the build with n nodes running, per n (sampled every ``step`` seconds)."""
    if not nodes:
        return Counter()
    end = max(s.end for s in nodes)
    seconds: Counter[int] = Counter()
    for i in range(int(end / step) + 1):
        t = (i + 0.5) * step
        seconds[sum(s.start <= t < s.end for s in nodes)] += step
    return seconds


def report(nodes: list[Span], top: int) -> str:
    span = max((s.end for s in nodes), default=0.0)
    lines = [
        f"nodes: {len(nodes)}; first start to last end: {span:.1f} s; "
        f"summed node time: {sum(s.seconds for s in nodes):.1f} s"
    ]
    for running, seconds in sorted(concurrency(nodes).items()):
        lines.append(f"  {running} running: {seconds:.1f} s")
    lines.append(f"slowest {top} (start, end, seconds):")
    for s in sorted(nodes, key=lambda s: -s.seconds)[:top]:
        lines.append(f"  {s.start:6.1f} {s.end:6.1f} {s.seconds:6.2f}  {s.node}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_results", type=Path)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    print(report(spans(json.loads(args.run_results.read_text())), args.top))


if __name__ == "__main__":
    main()
