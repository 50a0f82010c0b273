#!/usr/bin/env bash
# The accelerator sweep behind docs/accelerator.md: learnkv-calibrate times the CPU side on
# this machine for batch sizes 1..16M (about a minute), predicts each device preset with the
# cost model, and accel_plot.py draws the result. Writes docs/img/accel_sweep.{csv,txt,png}
# and docs/img/accel_cpu.calibration.
#
#   bench/accel_sweep.sh [build dir] [learnkv-calibrate flags...]     (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shift || true
out=$root/docs/img
mkdir -p "$out"
"$build/bin/learnkv-calibrate" --csv="$out/accel_sweep.csv" \
  --output="$out/accel_cpu.calibration" "$@" | tee "$out/accel_sweep.txt"
/usr/bin/python3 "$root/bench/accel_plot.py" "$out/accel_sweep.csv" "$out/accel_sweep.png"
