#!/usr/bin/env bash
# Builds a release db_bench (CMAKE_BUILD_TYPE=Release: -O3 -DNDEBUG, so no assertions) from
# Debian's source package of the installed RocksDB — the same version and Debian patches as
# librocksdb, which Debian builds without NDEBUG. Built once into a cache directory outside the
# repository (never committed); bench/compare uses it as a second RocksDB baseline.
#
#   scripts/build-release-db-bench.sh                  build if missing; print the binary's path
#   scripts/build-release-db-bench.sh --configure-only  fetch and configure only (a quick check)
#   scripts/build-release-db-bench.sh --force           rebuild
#
# Takes 30-60 minutes on 2 cores (it compiles the whole RocksDB library). JOBS sets the
# parallelism (default: 2); LEARNKV_CACHE the cache directory (default: /var/cache/learnkv).
set -euo pipefail

MODE=build
case "${1:-}" in
  "") ;;
  --configure-only) MODE=configure ;;
  --force) MODE=force ;;
  *) echo "usage: $0 [--configure-only | --force]" >&2; exit 2 ;;
esac

CACHE=${LEARNKV_CACHE:-/var/cache/learnkv}
OUT=$CACHE/db_bench-release
JOBS=${JOBS:-2}
if [ "$MODE" = build ] && [ -x "$OUT" ]; then
  echo "$OUT"
  exit 0
fi

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(bash "$HERE/fetch-rocksdb-source.sh")
BUILD=$SRC-release-build

GENERATOR=()
if command -v ninja >/dev/null; then GENERATOR=(-G Ninja); fi
# Debian's configuration (debian/rules) minus the shared library, tests and other tools, and
# with a release build type; PORTABLE as Debian's, so only NDEBUG and -O3 differ.
cmake -S "$SRC" -B "$BUILD" "${GENERATOR[@]}" \
  -DCMAKE_BUILD_TYPE=Release \
  -DWITH_GFLAGS=ON -DWITH_LZ4=ON -DWITH_ZSTD=ON -DWITH_SNAPPY=ON -DWITH_ZLIB=ON -DWITH_BZ2=ON \
  -DWITH_LIBURING=OFF -DPORTABLE=ON -DFAIL_ON_WARNINGS=OFF \
  -DROCKSDB_BUILD_SHARED=OFF -DWITH_TESTS=OFF -DWITH_ALL_TESTS=OFF -DWITH_TOOLS=OFF \
  -DWITH_CORE_TOOLS=OFF -DWITH_TRACE_TOOLS=OFF -DWITH_BENCHMARK_TOOLS=ON >&2
if [ "$MODE" = configure ]; then
  echo "build-release-db-bench: configured $BUILD (not built)" >&2
  exit 0
fi

cmake --build "$BUILD" -j "$JOBS" --target db_bench >&2
install -m 0755 "$BUILD/db_bench" "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "$OUT"
