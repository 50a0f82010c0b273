#!/usr/bin/env bash
# Fetches Debian's source package of the installed RocksDB (exactly its version) into a cache
# directory outside the repository, and unpacks it once. Used to build a release db_bench
# (bench/) and to compile the RocksDB table-format plugin against RocksDB's internal headers.
# Prints the unpacked source directory. Never commits RocksDB code.
set -euo pipefail

CACHE=${LEARNKV_CACHE:-/var/cache/learnkv}
VERSION=$(dpkg-query -W -f='${source:Version}' librocksdb-dev 2>/dev/null || true)
if [ -z "$VERSION" ]; then
  echo "fetch-rocksdb-source: librocksdb-dev is not installed" >&2
  exit 1
fi
UPSTREAM=${VERSION%-*}
SRC="$CACHE/rocksdb-$UPSTREAM"
if [ -f "$SRC/include/rocksdb/version.h" ]; then
  echo "$SRC"
  exit 0
fi

mkdir -p "$CACHE"
SOURCES=/etc/apt/sources.list.d/learnkv-deb-src.sources
if ! grep -rqs "^Types:.*deb-src" /etc/apt/sources.list.d/ && ! grep -qs "^deb-src" /etc/apt/sources.list; then
  cat > "$SOURCES" <<SRCLIST
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRCLIST
  apt-get update -qq >&2
fi
if ! command -v dpkg-source >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dpkg-dev >&2
fi
( cd "$CACHE" && apt-get source -qq --download-only "rocksdb=$VERSION" >&2 )
TMP=$(mktemp -d "$CACHE/unpack.XXXXXX")
( cd "$TMP" && dpkg-source -x --no-check "$CACHE"/rocksdb_"$VERSION".dsc src >&2 )
rm -rf "$SRC"
mv "$TMP/src" "$SRC"
rm -rf "$TMP"
echo "$SRC"
