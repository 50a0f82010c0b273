#!/usr/bin/env bash
# Installs every Debian package that learnkv's build, tests, tools and benchmarks need.
# Idempotent: runs `apt-get update` only when something is missing; downloads nothing else.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
  librocksdb-dev rocksdb-tools
  libeigen3-dev libgflags-dev libgtest-dev libgmock-dev libbenchmark-dev
  libxxhash-dev libzstd-dev liblz4-dev libsnappy-dev zlib1g-dev libbz2-dev
  python3 python3-matplotlib python3-redis
  redis-server redis-tools libhiredis-dev
  dpkg-dev
  # Filter benchmark data (learned/filter_datasets.h): EasyList/EasyPrivacy ad and tracker
  # domains shipped with uBlock Origin, and the English word list. Without them the data sets
  # fall back to generated domains.
  webext-ublock-origin-firefox wamerican
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
