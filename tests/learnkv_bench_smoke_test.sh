#!/usr/bin/env bash
# Smoke test of learnkv-bench (ctest: learnkv_bench_smoke). Runs every benchmark name on
# learnkv and on RocksDB with a tiny key space, parses each result line with db_bench's format,
# and checks that reads find what the fills wrote — and that both engines, given the same
# seeded operations, find exactly the same number of keys. No timing assertions.
#
#   tests/learnkv_bench_smoke_test.sh build/bin/learnkv-bench [scratch-dir]
set -euo pipefail

BIN=${1:?usage: learnkv_bench_smoke_test.sh path/to/learnkv-bench [scratch-dir]}
DIR=${2:-$(mktemp -d /tmp/learnkv-bench-smoke.XXXXXX)}
rm -rf "$DIR"
mkdir -p "$DIR"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

N=2000
FAILS=0
fail() {
  echo "FAIL: $*" >&2
  FAILS=$((FAILS + 1))
}

# db_bench's line: name : micros/op ops/sec seconds operations; [MB/s] [(found of n found)] [...]
LINE_RE='^([a-z]+) +: +([0-9]+\.[0-9]{3}) micros/op ([0-9]+) ops/sec ([0-9]+\.[0-9]{3}) seconds ([0-9]+) operations;( +[0-9]+\.[0-9] MB/s)?( \(([0-9]+) of ([0-9]+) found\))?'
HIST_RE='^Microseconds per op \(([a-z]+), [0-9]+ calls\): P50: [0-9.]+ P95: [0-9.]+ P99: [0-9.]+ P99\.9: [0-9.]+ Max: [0-9.]+'

# Parses the output of one run into "name ops found" rows (found "-" if not a lookup).
parse() {
  local out=$1 rows=$2 line
  : > "$rows"
  while IFS= read -r line; do
    if [[ $line =~ $LINE_RE ]]; then
      echo "${BASH_REMATCH[1]} ${BASH_REMATCH[5]} ${BASH_REMATCH[8]:--}" >> "$rows"
    elif [[ $line =~ ^[a-z]+\ +: ]] && [[ ! $line =~ skipped ]]; then
      fail "malformed result line: $line"
    fi
  done < "$out"
}

# expect ROWS INDEX NAME OPS FOUND: row INDEX (1-based) is NAME with OPS operations, FOUND found
# (a number, "-", or "some": strictly between 0 and the operations).
expect() {
  local rows=$1 i=$2 name=$3 ops=$4 found=$5 row
  row=$(sed -n "${i}p" "$rows")
  read -r rname rops rfound <<< "$row"
  if [ "$rname" != "$name" ] || [ "$rops" != "$ops" ]; then
    fail "$rows row $i: got '$row', want '$name $ops ...'"
  elif [ "$found" = some ]; then
    if [ "$rfound" = - ] || [ "$rfound" -le 0 ] || [ "$rfound" -ge "$rops" ]; then
      fail "$rows row $i ($name): found $rfound, want between 0 and $rops"
    fi
  elif [ "$rfound" != "$found" ]; then
    fail "$rows row $i ($name): found $rfound, want $found"
  fi
}

BENCHMARKS=fillseq,readrandom,readmissing,readseq,readreverse,seekrandom,multireadrandom,readwhilewriting,overwrite,deleterandom,readrandom,fillrandom,readrandom,compact,waitforcompaction,stats,levelstats

for engine in learnkv rocksdb; do
  out=$DIR/$engine.out
  if ! "$BIN" --engine=$engine --db="$DIR/db-$engine" --num=$N --batch_size=8 --histogram \
      --benchmarks=$BENCHMARKS --report_json="$DIR/$engine.json" > "$out" 2> "$DIR/$engine.err"; then
    fail "$engine: learnkv-bench failed: $(cat "$DIR/$engine.err")"
    continue
  fi
  rows=$DIR/$engine.rows
  parse "$out" "$rows"
  [ "$(wc -l < "$rows")" -eq 15 ] || fail "$engine: $(wc -l < "$rows") result lines, want 15"
  expect "$rows" 1 fillseq $N -
  expect "$rows" 2 readrandom $N $N
  expect "$rows" 3 readmissing $N 0
  expect "$rows" 4 readseq $N -
  expect "$rows" 5 readreverse $N -
  expect "$rows" 6 seekrandom $N $N
  expect "$rows" 7 multireadrandom $N $N
  expect "$rows" 8 readwhilewriting $N $N
  expect "$rows" 9 overwrite $N -
  expect "$rows" 10 deleterandom $N -
  expect "$rows" 11 readrandom $N some
  expect "$rows" 12 fillrandom $N -
  expect "$rows" 13 readrandom $N some
  expect "$rows" 14 compact 1 -
  expect "$rows" 15 waitforcompaction 1 -
  hists=$(grep -cE "$HIST_RE" "$out" || true)
  [ "$hists" -eq 13 ] || fail "$engine: $hists latency lines, want 13"
  grep -q "^Engine:  " "$out" || fail "$engine: no header"
  grep -qE "^  Bytes on disk: +[1-9][0-9]* bytes" "$out" || fail "$engine: no bytes on disk"
  grep -qE "^  Peak RSS \(process\): +[1-9][0-9]* bytes" "$out" || fail "$engine: no peak RSS"
  grep -qE "^  (Index memory|Index\+filter memory): +[0-9]+ bytes" "$out" ||
    fail "$engine: no index memory"
  grep -q "^Level" "$out" || fail "$engine: no levelstats"
  "$PY" - "$DIR/$engine.json" <<'PY' || fail "$engine: bad JSON report"
import json, sys
d = json.load(open(sys.argv[1]))
b = d["engines"][0]["benchmarks"]
assert len(b) == 15, len(b)
assert all("latency_micros" in x for x in b[:13]), "latency missing"
assert d["engines"][0]["memory"]["disk_bytes"] > 0
PY
done

# The same seeded operations must find the same keys on both engines.
if [ -f "$DIR/learnkv.rows" ] && [ -f "$DIR/rocksdb.rows" ]; then
  diff "$DIR/learnkv.rows" "$DIR/rocksdb.rows" > /dev/null ||
    fail "found counts differ between engines: $(diff "$DIR/learnkv.rows" "$DIR/rocksdb.rows" | tr '\n' ' ')"
fi

# Reopening: an existing DB answers reads; fills are skipped.
for engine in learnkv rocksdb; do
  out=$DIR/$engine-existing.out
  "$BIN" --engine=$engine --db="$DIR/db-$engine" --num=$N --use_existing_db \
      --benchmarks=fillseq,readmissing,readseq > "$out" 2>&1 || fail "$engine: reopen failed: $(cat "$out")"
  grep -qE "^fillseq +: skipped" "$out" || fail "$engine: fill not skipped with --use_existing_db"
  grep -qE "^readmissing +:.*\(0 of $N found\)" "$out" || fail "$engine: readmissing after reopen"
  grep -qE "^readseq +:.* [1-9][0-9]* operations;" "$out" || fail "$engine: readseq after reopen"
done

# Data-set keys and zipfian access, both engines in one run.
for dist in ycsb zipfian; do
  out=$DIR/$dist.out
  "$BIN" --engine=learnkv,rocksdb --db="$DIR/db-$dist" --num=$N --key_dist=$dist \
      --benchmarks=fillseq,readrandom,readmissing,seekrandom > "$out" 2>&1 ||
    fail "$dist: learnkv-bench failed: $(cat "$out")"
  [ "$(grep -cE "^readrandom +:.*\($N of $N found\)" "$out")" -eq 2 ] || fail "$dist: readrandom"
  [ "$(grep -cE "^readmissing +:.*\(0 of $N found\)" "$out")" -eq 2 ] || fail "$dist: readmissing"
  [ "$(grep -cE "^seekrandom +:.*\($N of $N found\)" "$out")" -eq 2 ] || fail "$dist: seekrandom"
done

# --accelerator (learnkv only): the same keys found as without it, learnkv.accel in the stats
# and after the run, its values in the JSON report; an unknown device is refused.
for acc in "" h200; do
  "$BIN" --engine=learnkv --db="$DIR/db-accel" --num=$N --batch_size=64 ${acc:+--accelerator=$acc} \
      --benchmarks=fillrandom,compact,multireadrandom,readrandom,stats \
      --report_json="$DIR/accel$acc.json" > "$DIR/accel$acc.out" 2>&1 ||
    fail "accelerator '$acc': learnkv-bench failed: $(cat "$DIR/accel$acc.out")"
  grep -E "^(multireadrandom|readrandom) +:" "$DIR/accel$acc.out" |
    grep -oE "\([0-9]+ of [0-9]+ found\)" > "$DIR/accel$acc.found"
done
diff -q "$DIR/accel.found" "$DIR/accelh200.found" > /dev/null ||
  fail "accelerator: found counts differ: $(cat "$DIR/accel.found" "$DIR/accelh200.found" | tr '\n' ' ')"
[ "$(grep -c '^accelerator: h200 ' "$DIR/accelh200.out")" -eq 2 ] ||
  fail "accelerator: learnkv.accel not in both the stats and the summary"
"$PY" - "$DIR/accelh200.json" <<'PY' || fail "accelerator: bad JSON report"
import json, sys
e = json.load(open(sys.argv[1]))["engines"][0]
v = e["accelerator"]["values"]
assert v["accelerator"] == "h200", v
assert v["rmi_batches"] > 0 and v["rmi_items"] >= v["rmi_batches"], v
assert 0 <= v["offloaded_fraction"] <= 1, v
assert "simulated" in e["accelerator"]["text"]
PY
if "$BIN" --engine=learnkv --db="$DIR/db-accel" --num=10 --accelerator=no-such-device \
    > "$DIR/accel-bad.out" 2>&1; then
  fail "accelerator: an unknown device was accepted"
fi

# rocksdb-learned runs in builds with the RocksDB plugin (tests/rocksdb_plugin/ compares it with
# rocksdb) and is refused with a clear message in builds without it.
if "$BIN" --engine=rocksdb-learned --db="$DIR/db-x" --num=10 > "$DIR/x.out" 2>&1; then
  grep -q "LearnedTable" "$DIR/x.out" || fail "rocksdb-learned: not LearnedTable: $(cat "$DIR/x.out")"
else
  grep -q "not in this build" "$DIR/x.out" || fail "rocksdb-learned: unclear error: $(cat "$DIR/x.out")"
fi

if [ "$FAILS" -ne 0 ]; then
  echo "learnkv_bench_smoke: $FAILS failure(s); outputs in $DIR" >&2
  exit 1
fi
rm -rf "$DIR"
echo "learnkv_bench_smoke: OK"
