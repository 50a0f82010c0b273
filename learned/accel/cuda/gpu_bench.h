// The measurements behind learnkv-calibrate --device=cuda (docs/accelerator.md, "Validation on
// a real GPU"): MeasureDevice times what FitDevice (device_fit.h) needs — an empty kernel's
// launch, pinned copies of 4 B to 256 MiB both ways, a device-to-device copy, each model
// kind's kernel alone over batch sizes 1 to 16M, and a few small batches end to end — and
// ValidateDevice times whole batches of every size on the GPU and on the CPU and sets them
// beside the cost model's predictions (validation_report.h).
//
// Every GPU time is a median of many runs after warm-up; a CPU time is a median too, of
// fewer runs for batches that take seconds. Batches use workload.h's models and probes.
//
// Plain C++ over the CudaDevice interface: learnkv-calibrate hands it the GPU, and
// tests/accel_cuda_bench_test.cc a simulated device, so that CI runs these sweeps end to end.
//
// Thread safety: single-threaded; the device is used by the calling thread only.
#ifndef LEARNKV_LEARNED_ACCEL_CUDA_GPU_BENCH_H_
#define LEARNKV_LEARNED_ACCEL_CUDA_GPU_BENCH_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "learned/accel/cost_model.h"
#include "learned/accel/cpu_calibration.h"
#include "learned/accel/cuda/cuda_device.h"
#include "learned/accel/cuda/device_fit.h"
#include "learned/accel/cuda/validation_report.h"
#include "learned/accel/cuda/workload.h"
#include "learned/accel/device.h"

namespace learnkv::accel::gpu {

// How a GPU point is timed: `warmup` untimed runs, then timed runs until at least min_runs
// and min_point_ms, or max_runs; the median counts.
struct GpuTiming {
  int warmup = 5;
  int min_runs = 15;
  int max_runs = 300;
  double min_point_ms = 30;
};

struct GpuCalibrationOptions {
  WorkloadOptions workload;
  std::vector<ModelKind> kinds = {ModelKind::kRmi, ModelKind::kNgram, ModelKind::kGrid,
                                  ModelKind::kMlp};
  size_t max_copy_bytes = size_t{256} << 20;  // copies of 4, 16, 64, ... bytes up to this
  uint64_t max_batch = uint64_t{16} << 20;    // kernels alone: 1, 4, 16, ... items up to this
  // End-to-end batches for dispatch_ns (one chunk): small ones, where the fixed cost shows.
  std::vector<uint64_t> batch_sizes = {1, 4, 16, 64, 256, 1024, 4096};
  GpuTiming timing;
  // One line per finished measurement. May be empty.
  std::function<void(const std::string&)> progress;
};

// Fills *m (shapes included) and appends every measurement to *csv as
// "what,kind,x,ns" lines (launch, h2d, d2h, d2d, kernel, batch), after a header line.
Status MeasureDevice(CudaDevice* gpu, const GpuCalibrationOptions& options, DeviceMeasurements* m,
                     std::string* csv);

struct GpuValidationOptions {
  WorkloadOptions workload;
  std::vector<ModelKind> kinds = {ModelKind::kRmi, ModelKind::kNgram, ModelKind::kGrid,
                                  ModelKind::kMlp};
  uint64_t growth = 2;                      // batch sizes 1, growth, growth^2, ...
  uint64_t max_batch = uint64_t{16} << 20;  // ... and this one
  uint32_t max_pipeline_chunks = 16;        // as AccelOptions: the prediction picks k, the
                                            // run uses the same k
  GpuTiming timing;
  // CPU: at least cpu_min_runs runs and cpu_min_point_ms (small batches repeat between clock
  // reads), at most cpu_max_runs; a single run longer than cpu_max_point_ms ends the point.
  int cpu_min_runs = 5;
  int cpu_max_runs = 100;
  double cpu_min_point_ms = 30;
  double cpu_max_point_ms = 1500;
  std::function<void(const std::string&)> progress;
};

// One row per kind and batch size. The GPU's answers are compared with the CPU's item by item
// (ValidationRow::exact). Errors: a CUDA failure, or a kind the calibration lacks.
Status ValidateDevice(CudaDevice* gpu, const DeviceSpec& spec, const CpuCalibration& cpu,
                      const GpuValidationOptions& options, std::vector<ValidationRow>* rows);

}  // namespace learnkv::accel::gpu

#endif  // LEARNKV_LEARNED_ACCEL_CUDA_GPU_BENCH_H_
