#!/usr/bin/env bash
# `make bench`: runs every benchmark with 3 repetitions and writes docs/benchmarks.md (medians)
# and its plots in docs/img/ through bench/report.py.
#
#   bash bench/run_all.sh [BUILD_DIR]
#   LEARNKV_BENCH_SIZES=1M,10M LEARNKV_BENCH_DATASETS=uniform_sparse,lognormal,ycsb bash bench/run_all.sh
#
# Defaults (table_bench.cc): 1M-entry tables of every data set that fits 16-byte keys, a few
# minutes on two cores. The raw JSON stays in $BUILD/bench-results/.
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$BUILD/bench-results"
mkdir -p "$OUT"

"$BUILD/bin/table_bench" \
  --benchmark_repetitions=3 \
  --benchmark_display_aggregates_only=true \
  --benchmark_out="$OUT/table_bench.json" \
  --benchmark_out_format=json

# Debian's python3-matplotlib belongs to the system interpreter; a pyenv/virtualenv python3
# first on the PATH may lack it.
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import matplotlib' 2>/dev/null && [ -x /usr/bin/python3 ]; then
  PYTHON=/usr/bin/python3
fi
"$PYTHON" "$ROOT/bench/report.py" --out "$ROOT/docs/benchmarks.md" --img "$ROOT/docs/img" \
  "$OUT/table_bench.json"

# ---------------------------------------------------------------------------------------------
# Membership filters (bench/filter_bench.cc): bits per key against false-positive rate for each
# filter and data set, and probe times. Replaces the "Membership filters" section that
# report.py's rewrite of docs/benchmarks.md dropped, and redraws docs/img/filter_bits_fpr.png.
"$BUILD/bin/filter_bench" --filter_csv="$OUT/filter_bench.csv"
"$PYTHON" "$ROOT/scripts/plot_filters.py" "$OUT/filter_bench.csv" \
  --png "$ROOT/docs/img/filter_bits_fpr.png" --section "$ROOT/docs/benchmarks.md"

# ---------------------------------------------------------------------------------------------
# learnkv vs RocksDB on db_bench's workloads (bench/compare, learnkv-bench): 10M keys, 1 and 4
# threads, uniform and YCSB keys, 3 repetitions alternating engines — about one to two hours on
# two cores. It adds its own section to docs/benchmarks.md (after report.py has written the
# file) and docs/img/compare_*.png. LEARNKV_COMPARE_ARGS passes options, e.g. "--quick" or
# "--release_db_bench=build" (also builds RocksDB's release db_bench once, 30-60 min).
# shellcheck disable=SC2086
"$PYTHON" "$ROOT/bench/compare" --build "$BUILD" --out "$ROOT/docs/benchmarks.md" \
  --img "$ROOT/docs/img" ${LEARNKV_COMPARE_ARGS:-}

# ---------------------------------------------------------------------------------------------
# learnkv-server vs redis-server 7.0 under redis-benchmark (SET/GET, 50 clients, with and
# without -P 16), appended to docs/benchmarks.md. LKV_RC_REQUESTS / LKV_RC_REPS scale it down.
LKV_RC_OUT="$ROOT/docs/benchmarks.md" bash "$ROOT/bench/redis_compare.sh" "$BUILD"
