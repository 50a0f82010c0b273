#!/usr/bin/env bash
# `make run`: learnkv-server on its embedded defaults — 127.0.0.1:6380, data in ./data — until
# Ctrl-C (SIGINT) or SHUTDOWN, which sync the WAL and stop it cleanly. Extra arguments go to
# the server (learnkv-server --help lists them). The table/model demo is `make demo`.
set -euo pipefail
BUILD=${1:-build}
shift || true
cat <<MSG
learnkv-server: Redis protocol on 127.0.0.1:6380, data in ./data
  connect:   redis-cli -p 6380            (then e.g.  SET greeting hello / GET greeting / INFO learned)
  benchmark: redis-benchmark -p 6380 -t set,get -n 100000 -q
  stop:      Ctrl-C, or  redis-cli -p 6380 shutdown
MSG
exec "$BUILD/bin/learnkv-server" --bind=127.0.0.1 --port=6380 --dir=./data "$@"
