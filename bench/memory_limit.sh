#!/usr/bin/env bash
# A `dbt build` larger than DuckDB's memory limit must spill to disk, not fail.
#
# Generates CUSTOMERS (default 1,000,000) demo customers into a fresh folder under /tmp, then
# runs the full `dbt build` (SQL and Python models, tests) with
#   SEGMENTATION_MEMORY_LIMIT (default 2GB)  -> DuckDB `memory_limit` (profiles/profiles.yml)
#   SEGMENTATION_TEMP_DIR (default /tmp/seg-spill) -> DuckDB `temp_directory` (spill files)
# and measures, sampling every 0.2 s: wall time, peak RSS of the dbt process tree (dbt runs
# DuckDB and the pandas/scikit-learn Python models in one process; children are summed too)
# and the largest size of the temp directory. Note that memory_limit caps DuckDB's buffer
# manager only: pandas frames of the Python models live outside it.
#
# The profile must set memory_limit and temp_directory under `config_options` (applied once
# at connect): under `settings` dbt-duckdb re-runs SET temp_directory on every cursor, which
# DuckDB refuses after the first spill. Results: docs/benchmarks.md.
#
# usage: bench/memory_limit.sh [CUSTOMERS]
#   env: SEGMENTATION_MEMORY_LIMIT, SEGMENTATION_TEMP_DIR, BENCH_VARS (extra dbt vars, YAML),
#        DBT_PROFILES_DIR (default: profiles/),
#        KEEP=1 keeps the work folder (raw data, warehouse, logs) for inspection.
set -euo pipefail
cd "$(dirname "$0")/.."

CUSTOMERS="${1:-1000000}"
SEED="${SEED:-42}"
export SEGMENTATION_MEMORY_LIMIT="${SEGMENTATION_MEMORY_LIMIT:-2GB}"
export SEGMENTATION_TEMP_DIR="${SEGMENTATION_TEMP_DIR:-/tmp/seg-spill}"
BENCH_VARS="${BENCH_VARS:-}"
PY=".venv/bin/python"
[[ -x "$PY" ]] || { echo "error: $PY missing; run 'make setup' first" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/memory-limit-bench.XXXXXX")"
if [[ "${KEEP:-0}" != 1 ]]; then
    trap 'rm -rf "$WORK" "$SEGMENTATION_TEMP_DIR"' EXIT
fi
rm -rf "$SEGMENTATION_TEMP_DIR"
mkdir -p "$SEGMENTATION_TEMP_DIR"

echo "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GB RAM, $(uname -sr)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "work folder: $WORK"

start=$(date +%s.%N)
.venv/bin/segmentation generate --customers "$CUSTOMERS" --seed "$SEED" \
    --out "$WORK/raw" --truth "$WORK/truth" >"$WORK/generate.log" 2>&1
echo "generate: $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s," \
    "$(du -sh "$WORK/raw" | cut -f1) of Parquet"

export DBT_PROFILES_DIR="${DBT_PROFILES_DIR:-$PWD/profiles}"
export SEGMENTATION_DB="$WORK/warehouse.duckdb"
VARS="{raw_path: \"$WORK/raw\"${BENCH_VARS:+, $BENCH_VARS}}"
echo "build: memory_limit=$SEGMENTATION_MEMORY_LIMIT temp_directory=$SEGMENTATION_TEMP_DIR" \
    "vars=$VARS"

# Run dbt build and sample the process tree and the spill folder every 0.2 s.
status=0
"$PY" - "$WORK" "$SEGMENTATION_TEMP_DIR" "$VARS" <<'PYEOF' || status=$?
import subprocess
import sys
import time

work, spill, dbt_vars = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, "bench")
from procmem import folder_bytes, tree_rss  # noqa: E402  (the benchmarks' measuring helpers)


cmd = [
    ".venv/bin/dbt", "build", "--vars", dbt_vars,
    "--target-path", f"{work}/target", "--log-path", f"{work}/logs",
]
log = open(f"{work}/dbt.log", "w")
start = time.monotonic()
proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
peak_rss = peak_spill = 0
peak_rss_at = peak_spill_at = 0.0
while proc.poll() is None:
    now = time.monotonic() - start
    rss, spilled = tree_rss(proc.pid), folder_bytes(spill)
    if rss > peak_rss:
        peak_rss, peak_rss_at = rss, now
    if spilled > peak_spill:
        peak_spill, peak_spill_at = spilled, now
    time.sleep(0.2)
wall = time.monotonic() - start
log.close()
gib = 1024**3
print(f"dbt build exit status: {proc.returncode}")
print(f"wall time: {wall:.1f} s")
print(f"peak RSS of the process tree: {peak_rss / gib:.2f} GiB (at {peak_rss_at:.0f} s)")
print(f"peak size of the temp directory: {peak_spill / gib:.2f} GiB (at {peak_spill_at:.0f} s)")
sys.exit(proc.returncode)
PYEOF
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
grep -E "Done\. PASS|Completed|ERROR|Error|Out of Memory" "$WORK/dbt.log" | tail -n 20 || true
echo "slowest nodes (s):"
"$PY" - "$WORK/target/run_results.json" <<'PYEOF' || true
import json
import sys

results = json.load(open(sys.argv[1]))["results"]
for r in sorted(results, key=lambda r: -r["execution_time"])[:8]:
    print(f"  {r['execution_time']:7.1f}  {r['status']:<7} {r['unique_id']}")
PYEOF
exit "$status"
