#!/usr/bin/env bash
# Benchmark of the demo data generator: wall time and peak RSS of
# `segmentation generate` for N customers (default 1,000,000), RUNS times (default 3),
# each into a fresh temporary folder that is deleted afterwards. Prints one line per run,
# the median wall time and the rows per table. Results are recorded in docs/benchmarks.md.
#
# usage: bench/generate_bench.sh [CUSTOMERS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."

CUSTOMERS="${1:-1000000}"
RUNS="${2:-3}"
SEED="${SEED:-42}"
BIN=".venv/bin/segmentation"
[[ -x "$BIN" ]] || { echo "error: $BIN missing; run 'make setup' first" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "error: /usr/bin/time (GNU time) is required" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/generate-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

echo "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GB RAM, $(uname -sr)"
echo "command: $BIN generate --customers $CUSTOMERS --seed $SEED --out \$TMP/raw --truth \$TMP/truth"
walls=()
for run in $(seq 1 "$RUNS"); do
    rm -rf "$WORK/raw" "$WORK/truth"
    /usr/bin/time -v -o "$WORK/time.txt" "$BIN" generate --customers "$CUSTOMERS" --seed "$SEED" \
        --out "$WORK/raw" --truth "$WORK/truth" 2>"$WORK/log.txt"
    wall="$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$WORK/time.txt" \
        | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')"
    rss_kb="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt")"
    walls+=("$wall")
    awk -v r="$run" -v w="$wall" -v k="$rss_kb" \
        'BEGIN { printf "run %d: wall %.2f s, peak RSS %.2f GB\n", r, w, k / 1048576 }'
done
median="$(printf '%s\n' "${walls[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')"
echo "median wall: ${median} s"
tail -n 2 "$WORK/log.txt"
du -sh "$WORK/raw"
