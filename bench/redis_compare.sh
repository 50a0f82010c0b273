#!/usr/bin/env bash
# learnkv-server vs Debian's redis-server 7.0 under redis-benchmark, in the same run.
#
#   bash bench/redis_compare.sh [BUILD_DIR]
#   LKV_RC_REQUESTS=200000 LKV_RC_REPS=1 bash bench/redis_compare.sh build      (a quick run)
#
# Both servers start on free loopback ports with fresh data directories: redis-server with
# appendonly yes / appendfsync everysec (no RDB snapshots), learnkv-server with its defaults
# (--sync=everysec). Both are preloaded with the GET keyspace (key:000000000000 ...), then
# SET and GET run with 50 clients and 100-byte values, without and with -P 16, alternating the
# servers (the order flips each repetition). Prints a markdown table of medians and the
# learnkv/Redis ratios against the goals (GET >= 0.8x, SET >= 0.6x); LKV_RC_OUT=FILE also
# appends it to FILE. Settings (environment):
#   LKV_RC_REQUESTS  requests per run (default 1000000)
#   LKV_RC_KEYS      keyspace, -r (default 100000)
#   LKV_RC_REPS      repetitions (default 3)
#   LKV_RC_CLIENTS   clients, -c (default 50)
#   LKV_RC_THREADS   learnkv --io_threads (default 1)
#   LKV_RC_LKV_ARGS  more learnkv-server flags, e.g. "--write_buffer_size=16mb" (default none)
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REQUESTS=${LKV_RC_REQUESTS:-1000000}
KEYS=${LKV_RC_KEYS:-100000}
REPS=${LKV_RC_REPS:-3}
CLIENTS=${LKV_RC_CLIENTS:-50}
IO_THREADS=${LKV_RC_THREADS:-1}
LKV_ARGS=${LKV_RC_LKV_ARGS:-}
SERVER_BIN="$BUILD/bin/learnkv-server"
WORK="$BUILD/bench-results/redis_compare"

for tool in redis-server redis-benchmark redis-cli; do
  command -v "$tool" >/dev/null || { echo "redis_compare: $tool not found (scripts/install-deps.sh)" >&2; exit 1; }
done
[ -x "$SERVER_BIN" ] || { echo "redis_compare: $SERVER_BIN not built" >&2; exit 1; }

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

rm -rf "$WORK"
mkdir -p "$WORK/redis" "$WORK/learnkv"
REDIS_PORT=$(free_port)
LKV_PORT=$(free_port)
while [ "$LKV_PORT" = "$REDIS_PORT" ]; do LKV_PORT=$(free_port); done

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$WORK/redis" --appendonly yes \
  --appendfsync everysec --save "" --daemonize no >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
"$SERVER_BIN" --port="$LKV_PORT" --dir="$WORK/learnkv/data" --io_threads="$IO_THREADS" \
  $LKV_ARGS >"$WORK/learnkv.log" 2>&1 &
LKV_PID=$!
cleanup() {
  kill -TERM "$REDIS_PID" "$LKV_PID" 2>/dev/null || true
  wait "$REDIS_PID" "$LKV_PID" 2>/dev/null || true
}
trap cleanup EXIT

for port in "$REDIS_PORT" "$LKV_PORT"; do
  for _ in $(seq 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
done

# Preload every key GET will ask for (redis-benchmark's -r keys: "key:" + 12 digits).
VALUE=$(head -c 100 /dev/zero | tr '\0' 'x')
for port in "$REDIS_PORT" "$LKV_PORT"; do
  awk -v n="$KEYS" -v v="$VALUE" 'BEGIN { for (i = 0; i < n; i++) printf "SET key:%012d %s\r\n", i, v }' |
    redis-cli -p "$port" --pipe >/dev/null
done

RESULTS="$WORK/results.csv"
echo "rep,server,pipeline,test,rps,cpu_us" >"$RESULTS"
# The CPU time (user + system, all threads) a process has used, in clock ticks.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))
run_one() {  # server pid port pipeline test
  local out before after
  before=$(cpu_ticks "$2")
  out=$(redis-benchmark -p "$3" -c "$CLIENTS" -n "$REQUESTS" -r "$KEYS" -d 100 -P "$4" -t "$5" --csv -q 2>/dev/null |
        grep -i "^\"$5\"" | head -1 | cut -d, -f2 | tr -d '"')
  after=$(cpu_ticks "$2")
  # The server's CPU time per request: unlike req/s, hardly moved by other load on the machine.
  local cpu_us
  cpu_us=$(awk -v t=$((after - before)) -v u="$TICK_US" -v n="$REQUESTS" 'BEGIN { printf "%.2f", t * u / n }')
  echo "$rep,$1,$4,$5,${out:-0},$cpu_us" >>"$RESULTS"
  printf '  rep %d %-8s -P %-2s %-3s %12s req/s %6s us CPU/req\n' "$rep" "$1" "$4" "$5" "${out:-0}" \
    "$cpu_us" >&2
}

for rep in $(seq "$REPS"); do
  if [ $((rep % 2)) -eq 1 ]; then order="redis learnkv"; else order="learnkv redis"; fi
  for pipeline in 1 16; do
    for test in SET GET; do
      for server in $order; do
        if [ "$server" = redis ]; then
          run_one redis "$REDIS_PID" "$REDIS_PORT" "$pipeline" "$test"
        else
          run_one learnkv "$LKV_PID" "$LKV_PORT" "$pipeline" "$test"
        fi
      done
    done
  done
done

REPORT=$(/usr/bin/python3 - "$RESULTS" "$REQUESTS" "$KEYS" "$REPS" "$CLIENTS" "$IO_THREADS" <<'PY'
import csv, statistics, sys
path, requests, keys, reps, clients, threads = sys.argv[1:]
rows = list(csv.DictReader(open(path)))
def values(server, pipeline, test, field):
    return [float(r[field]) for r in rows
            if r["server"] == server and r["pipeline"] == pipeline and r["test"] == test]
def med(server, pipeline, test, field="rps"):
    v = values(server, pipeline, test, field)
    return statistics.median(v) if v else 0.0
def paired(pipeline, test):  # the median of each repetition's learnkv / Redis
    r, l = values("redis", pipeline, test, "rps"), values("learnkv", pipeline, test, "rps")
    v = [b / a for a, b in zip(r, l) if a]
    return statistics.median(v) if v else 0.0
goal = {"GET": 0.8, "SET": 0.6}
print("## learnkv-server vs redis-server 7.0 (redis-benchmark)\n")
print(f"{clients} clients, 100-byte values, {requests} requests per run over {keys} keys "
      f"(preloaded), median of {reps} alternating runs; Redis with appendonly yes / appendfsync "
      f"everysec, learnkv-server with --sync=everysec, --io_threads={threads}. 'paired' is the "
      f"median of the ratios of runs made back to back; 'CPU' the server's CPU time per request "
      f"(all its threads), which other load on the machine moves far less than req/s.\n")
print("| test | pipeline | Redis req/s | learnkv req/s | learnkv / Redis | paired | "
      "Redis CPU us/req | learnkv CPU us/req | goal |")
print("|---|---|---:|---:|---:|---:|---:|---:|---|")
for pipeline in ("1", "16"):
    for test in ("SET", "GET"):
        r, l = med("redis", pipeline, test), med("learnkv", pipeline, test)
        ratio = l / r if r else 0.0
        ok = "met" if ratio >= goal[test] else "missed"
        print(f"| {test} | {'-P ' + pipeline if pipeline != '1' else 'none'} | {r:,.0f} | {l:,.0f} | "
              f"{ratio:.2f}x | {paired(pipeline, test):.2f}x | "
              f"{med('redis', pipeline, test, 'cpu_us'):.2f} | "
              f"{med('learnkv', pipeline, test, 'cpu_us'):.2f} | >= {goal[test]}x: {ok} |")
PY
)
echo "$REPORT"
if [ -n "${LKV_RC_OUT:-}" ]; then
  printf '\n%s\n' "$REPORT" >>"$LKV_RC_OUT"
fi
