#!/usr/bin/env bash
# Validates the accelerator's cost model on a real GPU (docs/accelerator.md, "Validation on a
# real GPU"), in one command:
#
#   1. builds learnkv with -DLEARNKV_CUDA=ON in the build directory, unless already built;
#   2. runs the GPU test (accel_cuda_test: every kernel's answers equal the CPU's, bit for bit);
#   3. calibrates the GPU: learnkv-calibrate --device=cuda measures launch overhead, pinned
#      copies both ways, memory bandwidth and each kernel's cost per item, and writes the fitted
#      description accel_h200.device;
#   4. validates it: learnkv-calibrate --device=cuda --validate times batches of 1 to 16M items on
#      the GPU and the CPU against the cost model's and the CPU calibration's predictions;
#   5. plots the result (bench/accel_plot.py) and puts the table and the plot into
#      docs/accelerator.md (bench/accel_validate_doc.py).
#
#   bench/accel_validate.sh [build dir]                  (default: build-cuda)
#
# Environment:
#   ACCEL_OUT=dir   where the results go (default docs/img); docs/accelerator.md is only
#                   updated when this is docs/img (run accel_validate_doc.py later otherwise)
#   MAX_BATCH=n     the largest batch (default 16777216; 1048576 takes a few minutes less)
#   CUDA_ARCH=90    CMAKE_CUDA_ARCHITECTURES for a fresh build (default 80-real;90)
#   NVCC=path       the CUDA compiler for a fresh build (default: nvcc on PATH, else
#                   /usr/local/cuda/bin/nvcc)
#   JOBS=n          build parallelism (default: every core)
#
# Without a GPU (no driver, none listed, or the CUDA runtime finds none) it prints
# "SKIPPED: <why>" and exits 0, having measured nothing. Any other failure exits non-zero,
# including a GPU that nvidia-smi lists but CUDA cannot use (e.g. a driver older than the
# CUDA runtime the build links: rebuild with the toolkit that matches the driver, NVCC=...).
#
# Results (in ACCEL_OUT): accel_cuda_test.txt, accel_h200.device, accel_gpu_calibration.{txt,csv},
# accel_validation_cpu.calibration, accel_validation.{txt,csv,md,png}.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-cuda}
out=${ACCEL_OUT:-$root/docs/img}
max_batch=${MAX_BATCH:-16777216}
mkdir -p "$out"
out=$(cd "$out" && pwd)

skip() {
  echo "SKIPPED: $* (accel_validate.sh measures nothing without a GPU)"
  exit 0
}

# ---- a GPU at all? (before spending minutes on a build)
gpu_listed=0
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi -L 2>/dev/null | grep -q '^GPU' || skip "nvidia-smi lists no GPU"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
  gpu_listed=1
elif [ ! -e /dev/nvidiactl ]; then
  skip "no NVIDIA driver (no nvidia-smi, no /dev/nvidiactl)"
fi

# CUDA found no usable device: a skip, unless nvidia-smi listed one (then something is wrong).
unusable() {
  if [ $gpu_listed -eq 1 ]; then
    echo "accel_validate.sh: nvidia-smi lists a GPU, but CUDA cannot use it: $*" >&2
    exit 1
  fi
  skip "$*"
}

# ---- build
if [ ! -f "$build/CMakeCache.txt" ] || ! grep -q '^LEARNKV_CUDA:BOOL=ON' "$build/CMakeCache.txt"; then
  nvcc=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
  if [ ! -x "$nvcc" ]; then
    echo "accel_validate.sh: no CUDA compiler (set NVCC=/path/to/nvcc)" >&2
    exit 1
  fi
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLEARNKV_CUDA=ON \
    -DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCH:-80-real;90}" \
    -DLEARNKV_BUILD_BENCH=OFF -DLEARNKV_BUILD_FUZZ=OFF
fi
cmake --build "$build" -j"${JOBS:-$(nproc)}" --target learnkv_calibrate accel_cuda_test
calibrate=$build/bin/learnkv-calibrate

# ---- 1: the kernels compute what the CPU computes
set +e
"$build/bin/accel_cuda_test" >"$out/accel_cuda_test.txt" 2>&1
rc=$?
set -e
if [ $rc -ne 0 ]; then
  tail -30 "$out/accel_cuda_test.txt" >&2
  echo "accel_validate.sh: accel_cuda_test failed (the GPU's answers differ from the CPU's?)" >&2
  exit 1
fi
if grep -q '^\[  SKIPPED \]' "$out/accel_cuda_test.txt"; then
  unusable "$(grep -m1 -o 'no CUDA device.*' "$out/accel_cuda_test.txt" || echo 'accel_cuda_test skipped')"
fi
grep -E '^\[  PASSED  \]' "$out/accel_cuda_test.txt"

# ---- 2: calibrate the GPU
set +e
"$calibrate" --device=cuda --max_batch="$max_batch" --device_output="$out/accel_h200.device" \
  --device_csv="$out/accel_gpu_calibration.csv" 2>&1 | tee "$out/accel_gpu_calibration.txt"
rc=${PIPESTATUS[0]}
set -e
[ $rc -eq 3 ] && unusable "$(tail -1 "$out/accel_gpu_calibration.txt")"
[ $rc -eq 0 ] || exit $rc

# ---- 3: validate the fitted description (the CPU calibration is measured here too)
"$calibrate" --device=cuda --validate="$out/accel_h200.device" --max_batch="$max_batch" \
  --output="$out/accel_validation_cpu.calibration" \
  --validation_csv="$out/accel_validation.csv" --validation_md="$out/accel_validation.md" \
  2>&1 | tee "$out/accel_validation.txt"

# ---- 4: plot, and the table into the docs
/usr/bin/python3 "$root/bench/accel_plot.py" "$out/accel_validation.csv" "$out/accel_validation.png" ||
  echo "accel_validate.sh: no plot (python3-matplotlib missing?)"
if [ "$out" = "$root/docs/img" ]; then
  /usr/bin/python3 "$root/bench/accel_validate_doc.py" "$root/docs/accelerator.md" \
    "$out/accel_validation.md" img/accel_validation.png
else
  echo "results in $out; to put them into the docs: cp $out/accel_* docs/img/ &&" \
    "bench/accel_validate_doc.py docs/accelerator.md docs/img/accel_validation.md img/accel_validation.png"
fi
