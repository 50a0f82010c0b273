// The parts of CudaDevice that need no CUDA (see cuda_device.h): they only call the interface,
// so they are built by default, where tests drive them with a simulated device
// (tests/accel_cuda_bench_test.cc).
#include "learned/accel/cuda/cuda_device.h"

namespace learnkv::accel::gpu {

Status CudaDevice::PredictBounds(const CudaModel& model, const uint64_t* keys, size_t n,
                                 SearchBound* out, const ExecuteOptions& options,
                                 BatchTiming* timing) {
  BatchTiming t;
  Status s = StageIntegers(model, keys, n, &t);
  if (s.ok()) s = Execute(model, options, &t);
  if (s.ok()) s = CollectBounds(out, &t);
  if (timing != nullptr) *timing = t;
  return s;
}

Status CudaDevice::ScoreIntegers(const CudaModel& model, const uint64_t* keys, size_t n,
                                 int32_t* out, const ExecuteOptions& options, BatchTiming* timing) {
  BatchTiming t;
  Status s = StageIntegers(model, keys, n, &t);
  if (s.ok()) s = Execute(model, options, &t);
  if (s.ok()) s = CollectScores(out, &t);
  if (timing != nullptr) *timing = t;
  return s;
}

Status CudaDevice::ScoreStrings(const CudaModel& model, const Slice* keys, size_t n, int32_t* out,
                                const ExecuteOptions& options, BatchTiming* timing) {
  BatchTiming t;
  Status s = StageStrings(model, keys, n, &t);
  if (s.ok()) s = Execute(model, options, &t);
  if (s.ok()) s = CollectScores(out, &t);
  if (timing != nullptr) *timing = t;
  return s;
}

}  // namespace learnkv::accel::gpu
