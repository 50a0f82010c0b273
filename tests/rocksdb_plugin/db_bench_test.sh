#!/usr/bin/env bash
# RocksDB's own db_bench (Debian's rocksdb-tools) with liblearnkv_rocksdb.so preloaded
# (ctest: rocksdb_plugin_db_bench). fillrandom then readrandom, once with an OPTIONS file naming
# LearnedTable and once with BlockBasedTable, the same seed: both must find the same number of
# keys, also after reopening (--use_existing_db), and the LearnedTable DB's table files must be
# LearnedTable files (its magic number ends each one).
#
#   db_bench_test.sh liblearnkv_rocksdb.so /usr/bin/db_bench options-dir scratch-dir
set -euo pipefail

PLUGIN=${1:?usage: db_bench_test.sh plugin.so db_bench options-dir scratch-dir}
DB_BENCH=${2:?}
OPTS=${3:?}
DIR=${4:?}
N=20000
rm -rf "$DIR"
mkdir -p "$DIR"

# Prints "found" of db_bench's readrandom line: ... (F of N found).
found() {
  sed -n 's/^readrandom .*(\([0-9]*\) of [0-9]* found).*/\1/p' "$1"
}

run() {  # name options-file benchmarks use-existing-db
  LD_PRELOAD=$PLUGIN "$DB_BENCH" --benchmarks="$3" --num=$N --seed=1 --threads=1 \
    --options_file="$OPTS/$2" --db="$DIR/$1" --use_existing_db="$4" --progress_reports=false \
    --statistics=false > "$DIR/$1.$4.out" 2>&1 || {
    cat "$DIR/$1.$4.out" >&2
    echo "FAIL: db_bench $1 $3 exited with an error" >&2
    exit 1
  }
  found "$DIR/$1.$4.out"
}

learned=$(run learned learned_table.ini fillrandom,readrandom 0)
bbt=$(run bbt block_based_table.ini fillrandom,readrandom 0)
# Reopened, readrandom draws other keys (db_bench seeds each benchmark by its position).
learned_again=$(run learned learned_table.ini readrandom 1)
bbt_again=$(run bbt block_based_table.ini readrandom 1)
echo "readrandom found: LearnedTable $learned, BlockBasedTable $bbt;" \
  "after reopening: LearnedTable $learned_again, BlockBasedTable $bbt_again"

fails=0
if [ -z "$learned" ] || [ "$learned" -eq 0 ]; then
  echo "FAIL: LearnedTable found nothing" >&2; fails=1
fi
if [ "$learned" != "$bbt" ] || [ "$learned_again" != "$bbt_again" ]; then
  echo "FAIL: LearnedTable and BlockBasedTable found different counts" >&2; fails=1
fi
grep -q "table_factory=LearnedTable" "$DIR"/learned/OPTIONS-* || {
  echo "FAIL: the DB's OPTIONS file does not name LearnedTable" >&2; fails=1
}
# kLearnedTableMagicNumber 0x217fdbc611022a5f, little-endian, in each table's last 8 bytes.
tables=0
for f in "$DIR"/learned/*.sst; do
  tables=$((tables + 1))
  magic=$(tail -c 8 "$f" | od -An -tx1 | tr -d ' \n')
  if [ "$magic" != "5f2a0211c6db7f21" ]; then
    echo "FAIL: $f is not a LearnedTable file (magic $magic)" >&2; fails=1
  fi
done
if [ "$tables" -lt 2 ]; then
  echo "FAIL: expected several table files, got $tables" >&2; fails=1
fi
exit $fails
