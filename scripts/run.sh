#!/usr/bin/env bash
# `make run`: the main job on embedded defaults.
set -euo pipefail
BUILD=${1:-build}
exec "$BUILD/bin/learnkv-demo"
