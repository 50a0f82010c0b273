// Fits a device description (device.h) to measurements of a real device, so that the cost
// model (cost_model.h) predicts it. Plain C++: learnkv-calibrate --device=cuda measures on the
// GPU (gpu_bench.h) and calls this; the tests feed it measurements generated from known
// parameters and check that it recovers them (tests/accel_cuda_fit_test.cc).
//
// What sets which field, in order (each step uses the fields fitted before it):
//
//   link_latency_ns, link_bytes_per_s   copies of 4 B .. 256 MiB, pinned, back to back in one
//       stream: time per copy = latency + bytes / bandwidth, fitted per direction; the
//       description has one figure for both, so latency is the mean of the two and bandwidth
//       their harmonic mean (exact for a batch that moves as many bytes each way)
//   mem_bytes_per_s                     a device-to-device copy (read plus write traffic)
//   mem_bytes                           the device's memory
//   mem_latency_ns (first guess)        each kernel's fixed time (its fit's intercept, timed on
//       the device with inputs resident) per dependent access of its shape, the median over kinds
//   fp64, int, matrix ops per second    each kernel's cost per item (its fit's slope), where
//       the memory term does not already explain it: non-negative least squares of
//       ops_per_item . (1 / rates) = cost per item over the kinds, in relative terms. A rate
//       that no compute-bound kind measures keeps the base description's figure (as fp32,
//       which no kernel uses)
//   dispatch_ns, mem_latency_ns         the fixed costs: the pair that predicts the end-to-end
//       batches (H2D, kernel, D2H, synchronization) best once everything above is predicted —
//       the latency searched, the dispatch in closed form for each latency — pulled towards the
//       first guess only where the batches cannot tell (every kind with as many dependent
//       accesses). Both are effective figures: the latency includes the kernel's start on the
//       device, the dispatch the enqueues and the synchronization. Without batches, dispatch is
//       the empty kernel's launch and synchronization and the latency stays the first guess.
//
// "Relative least squares" minimizes the sum of ((predicted - measured) / measured)^2, so that
// a sweep over eight orders of magnitude weighs its small and large ends alike.
//
// Thread safety: pure functions over value types.
#ifndef LEARNKV_LEARNED_ACCEL_CUDA_DEVICE_FIT_H_
#define LEARNKV_LEARNED_ACCEL_CUDA_DEVICE_FIT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "learned/accel/cost_model.h"
#include "learned/accel/device.h"
#include "learnkv/status.h"

namespace learnkv::accel::gpu {

// y = intercept + slope * x, and how well it fits its points.
struct LinearFit {
  double intercept = 0;
  double slope = 0;
  size_t points = 0;
  double mean_rel_error = 0;
  double max_rel_error = 0;

  double At(double x) const { return intercept + slope * x; }
};

// Relative least squares of (x, y) points with y > 0, intercept >= 0 (a negative one is
// refitted through the origin). InvalidArgument with fewer than two distinct x, a y <= 0,
// or a slope <= 0.
Status FitLinearRelative(const std::vector<std::pair<double, double>>& xy, LinearFit* fit);

// One end-to-end batch: `items` through H2D, kernel, D2H and synchronization, split into
// `chunks` pipeline chunks; ns is its median time.
struct BatchPoint {
  uint64_t items = 0;
  uint32_t chunks = 1;
  double ns = 0;
};

struct KindMeasurements {
  ModelKind kind = ModelKind::kRmi;
  ModelShape shape;  // of the measured model, as the kernel receives it (workload.h)
  // (items, ns): the kernel alone on inputs already on the device, timed on the device.
  std::vector<std::pair<double, double>> kernel_ns;
  std::vector<BatchPoint> batches;
};

struct DeviceMeasurements {
  std::string device;  // what was measured, e.g. "NVIDIA H200 (sm_90, 132 SMs), driver 12.8"
  double mem_bytes = 0;
  double launch_ns = 0;  // an empty kernel launched and synchronized, median
  // (bytes, ns per copy), pinned host memory, copies back to back in one stream.
  std::vector<std::pair<double, double>> h2d;
  std::vector<std::pair<double, double>> d2h;
  double device_copy_bytes_per_s = 0;  // device-to-device copy, read plus write bytes per s
  std::vector<KindMeasurements> kinds;
};

struct KindFit {
  ModelKind kind = ModelKind::kRmi;
  LinearFit kernel;                 // ns against items
  bool memory_bound = false;        // the memory term explains the cost per item
  double batch_mean_rel_error = 0;  // of the fitted description's predictions of its batches
  double batch_max_rel_error = 0;
};

struct DeviceFit {
  DeviceSpec spec;
  LinearFit h2d;  // ns against bytes
  LinearFit d2h;
  std::vector<KindFit> kinds;
  std::vector<std::string> notes;  // how each field was set, one line each

  // Several lines for the tool's output: the fits, their residuals and the notes.
  std::string Report() const;
};

// Fits every field listed above; the others (name and source aside) are copied from base.
// spec.calibrated is true. InvalidArgument when a step lacks the points it needs.
Status FitDevice(const DeviceMeasurements& m, const DeviceSpec& base, const std::string& name,
                 const std::string& source, DeviceFit* fit);

// The cost model's time for one measured batch under spec (weights resident, the batch's own
// chunk count): what the validation compares with the measurement.
double PredictBatchNs(const DeviceSpec& spec, const ModelShape& shape, const BatchPoint& batch);

}  // namespace learnkv::accel::gpu

#endif  // LEARNKV_LEARNED_ACCEL_CUDA_DEVICE_FIT_H_
