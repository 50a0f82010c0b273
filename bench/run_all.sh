#!/usr/bin/env bash
# `make bench`: every benchmark, writing docs/benchmarks.md.
set -euo pipefail
BUILD=${1:-build}
echo "bench: nothing yet"
