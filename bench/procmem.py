"""Run a command and measure its wall time, the peak RSS of its whole process tree and,
optionally, the peak disk space of a folder.

The sampler reads /proc every 0.2 s and sums the resident set size of the process and all of
its descendants (dbt runs Python models and DuckDB in one process, but `segmentation` and
subprocess-based steps spawn children; /usr/bin/time -v only reports the largest single
process). With `disk_folder`, it also adds up the space allocated to the files under that
folder (a warehouse file, its write-ahead log, DuckDB's spill folder) about once a second.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Measurement:
    wall_s: float
    peak_rss_bytes: int
    returncode: int | None
    timed_out: bool
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    #: killed by run_measured because the tree's RSS passed max_rss_bytes
    over_memory_budget: bool = False
    #: the most disk space the files under disk_folder took (None: not watched)
    peak_disk_bytes: int | None = None


def _proc_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, RSS bytes) for every readable process."""
    table: dict[int, tuple[int, int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # comm may contain spaces and parentheses: fields after the last ')'
        fields = stat[stat.rfind(b")") + 2 :].split()
        ppid = int(fields[1])
        rss_pages = int(fields[21])
        table[int(entry)] = (ppid, rss_pages * PAGE_SIZE)
    return table


def folder_bytes(folder: str) -> int:
    """Disk space allocated to the files under folder (blocks, as du counts them); files
    that vanish while it walks count as gone."""
    total = 0
    for parent, _, names in os.walk(folder):
        for name in names:
            try:
                total += os.lstat(os.path.join(parent, name)).st_blocks * 512
            except OSError:
                continue
    return total


def tree_rss(root: int) -> int:
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        if pid in table:
            total += table[pid][1]
        stack.extend(children.get(pid, ()))
    return total


def run_measured(
    cmd: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    log_path: str | None = None,
    timeout_s: float | None = None,
    interval_s: float = 0.2,
    max_rss_bytes: int | None = None,
    disk_folder: str | None = None,
    disk_interval_s: float = 1.0,
) -> Measurement:
    load_before = os.getloadavg()
    log = open(log_path, "w") if log_path else subprocess.DEVNULL  # noqa: SIM115
    peak = 0
    peak_disk = folder_bytes(disk_folder) if disk_folder else None
    stop = threading.Event()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)

    over_budget = threading.Event()

    def sample() -> None:
        nonlocal peak, peak_disk
        next_disk = 0.0
        while not stop.is_set():
            peak = max(peak, tree_rss(proc.pid))
            if disk_folder and time.perf_counter() >= next_disk:
                peak_disk = max(peak_disk or 0, folder_bytes(disk_folder))
                next_disk = time.perf_counter() + disk_interval_s
            if max_rss_bytes is not None and peak > max_rss_bytes and not over_budget.is_set():
                # stop it before the kernel's OOM killer picks a victim on a shared machine
                over_budget.set()
                proc.kill()
            stop.wait(interval_s)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    timed_out = False
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        proc.kill()
        proc.wait()
    wall = time.perf_counter() - start
    stop.set()
    sampler.join()
    if disk_folder:
        peak_disk = max(peak_disk or 0, folder_bytes(disk_folder))
    if log_path:
        log.close()
    return Measurement(
        wall_s=wall,
        peak_rss_bytes=peak,
        returncode=None if timed_out else proc.returncode,
        timed_out=timed_out,
        over_memory_budget=over_budget.is_set(),
        peak_disk_bytes=peak_disk,
        load_before=load_before,
        load_after=os.getloadavg(),
    )
