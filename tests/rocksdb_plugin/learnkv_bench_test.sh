#!/usr/bin/env bash
# learnkv-bench --engine=rocksdb-learned against --engine=rocksdb (ctest:
# rocksdb_plugin_learnkv_bench): the same seeded workloads, with small write buffers so that the
# reads go through flushed and compacted tables, must find the same number of keys.
#
#   learnkv_bench_test.sh path/to/learnkv-bench scratch-dir
set -euo pipefail

BIN=${1:?usage: learnkv_bench_test.sh path/to/learnkv-bench scratch-dir}
DIR=${2:?}
rm -rf "$DIR"
mkdir -p "$DIR"

"$BIN" --engine=rocksdb,rocksdb-learned --db="$DIR" --num=20000 --seed=3 \
  --benchmarks=fillrandom,compact,waitforcompaction,readrandom,readmissing,seekrandom \
  --write_buffer_size=131072 --target_file_size_base=262144 --max_bytes_for_level_base=1048576 \
  --progress_reports=false > "$DIR/out.txt" 2>&1 || {
  cat "$DIR/out.txt" >&2
  echo "FAIL: learnkv-bench exited with an error" >&2
  exit 1
}
# "name : ... (F of N found)" per engine, in run order.
found=$(sed -n 's/^\([a-z]*\) .*(\([0-9]*\) of [0-9]* found).*/\1 \2/p' "$DIR/out.txt")
echo "$found"
lines=$(echo "$found" | wc -l)
half=$((lines / 2))
if [ "$lines" -ne 6 ] || [ "$(echo "$found" | head -n $half)" != "$(echo "$found" | tail -n $half)" ]; then
  echo "FAIL: rocksdb and rocksdb-learned found different counts" >&2
  exit 1
fi
grep -q "LearnedTable: learnkv's table format" "$DIR/out.txt" || {
  echo "FAIL: rocksdb-learned did not describe itself" >&2
  exit 1
}
