// The CUDA back end of the accelerator: one GPU that runs batches of learnkv's model
// inferences — an RMI's search bounds, an n-gram or grid classifier's scores, the reference
// int8 MLP's scores — computing exactly what the CPU code computes (inference_ops.h), and
// reports how long each phase took. This header has no CUDA types, so plain C++ callers
// (learnkv-calibrate, gpu_bench.h, the tests) use it; the real device behind Open exists only
// with -DLEARNKV_CUDA=ON (library learnkv_cuda), while the interface's own methods are built
// by default (learnkv_cuda_common), where a test implements it with a simulated device.
//
// A batch is staged, executed and collected:
//
//   std::unique_ptr<CudaDevice> gpu;
//   Status s = CudaDevice::Open(0, &gpu);  // NotSupported "no CUDA device: ..." without one
//   std::unique_ptr<CudaModel> model;
//   s = gpu->UploadRmi(*rmi, &model);       // weights copied to the device once
//   s = gpu->StageIntegers(*model, keys, n);              // into pinned host memory
//   s = gpu->Execute(*model, ExecuteOptions(), &timing);  // H2D, kernel, D2H, synchronize
//   s = gpu->CollectBounds(bounds);                       // out of pinned host memory
//
// (PredictBounds and Score do all three.) Execute may repeat on the same staged batch, which
// is how the calibration and the validation time it. With ExecuteOptions::chunks = k the
// batch runs as a three-stage pipeline of k chunks on rotating streams, the copies of one
// chunk overlapping the kernel of another, as the cost model's pipelining assumes.
//
// What is timed: BatchTiming::device_ns is host wall-clock time from the first enqueue to
// the return of the stream synchronization: the time the cost model predicts. Staging and
// collecting (host memcpy into and out of pinned buffers) are timed separately; an engine
// that built its batches in pinned memory would not pay them.
//
// Thread safety: a CudaDevice is used by one thread at a time (it owns one staging area and
// its streams). CudaModels belong to the device that uploaded them and must not outlive it.
#ifndef LEARNKV_LEARNED_ACCEL_CUDA_CUDA_DEVICE_H_
#define LEARNKV_LEARNED_ACCEL_CUDA_CUDA_DEVICE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "learned/accel/cost_model.h"
#include "learned/accel/cuda/model_images.h"
#include "learned/filter_classifier.h"
#include "learned/rmi.h"
#include "learnkv/slice.h"
#include "learnkv/status.h"

namespace learnkv::accel::gpu {

struct ExecuteOptions {
  // Pipeline chunks, >= 1 (capped at the batch size).
  uint32_t chunks = 1;
  // Record CUDA events between the phases (chunks = 1 only), filling h2d_ns, kernel_ns and
  // d2h_ns. The events cost a few microseconds, so timing runs leave this off.
  bool phase_events = false;
  // Run only the kernel over inputs already on the device (an earlier Execute of the same
  // staged batch put them there), timed on the device with events: the calibration's cost
  // per item.
  bool kernel_only = false;
};

struct BatchTiming {
  uint64_t items = 0;
  uint32_t chunks = 1;
  double stage_ns = 0;    // host: inputs into pinned memory (Stage*)
  double device_ns = 0;   // host wall clock, first enqueue to synchronization (Execute)
  double h2d_ns = 0;      // CUDA events, with phase_events
  double kernel_ns = 0;   // CUDA events, with phase_events or kernel_only
  double d2h_ns = 0;      // CUDA events, with phase_events
  double collect_ns = 0;  // host: results out of pinned memory (Collect*)
};

enum class CopyDirection { kHostToDevice, kDeviceToHost };

// A model's weights on the device. Opaque; owned by the caller, used with its device only.
class CudaModel {
 public:
  virtual ~CudaModel() = default;
  virtual ModelKind kind() const = 0;
  virtual size_t weight_bytes() const = 0;
};

class CudaDevice {
 public:
  // Opens device `ordinal`, creates its streams and runs an empty kernel to check that this
  // build has code for it. NotSupported "no CUDA device" (with the runtime's reason: no
  // driver, a driver older than the runtime, no GPU) when there is none to use; IOError for
  // other CUDA failures.
  static Status Open(int ordinal, std::unique_ptr<CudaDevice>* result);
  virtual ~CudaDevice() = default;

  // E.g. "NVIDIA H200 (sm_90, 132 SMs, 139.8 GiB), driver 12.8, runtime 13.0".
  virtual std::string Describe() const = 0;
  virtual double memory_bytes() const = 0;

  // ---- models ----
  virtual Status UploadRmi(const Rmi& rmi, std::unique_ptr<CudaModel>* model) = 0;
  // An n-gram or grid classifier (its kind decides).
  virtual Status UploadClassifier(const FilterClassifier& classifier,
                                  std::unique_ptr<CudaModel>* model) = 0;
  virtual Status UploadMlp(const MlpImage& mlp, std::unique_ptr<CudaModel>* model) = 0;

  // ---- one batch at a time ----
  // RMI and grid: mapped keys (the RMI's key mapping, GridClassifier::mapper()).
  virtual Status StageIntegers(const CudaModel& model, const uint64_t* keys, size_t n,
                               BatchTiming* timing) = 0;
  // n-gram classifier and MLP: byte-string keys.
  virtual Status StageStrings(const CudaModel& model, const Slice* keys, size_t n,
                              BatchTiming* timing) = 0;
  // REQUIRES: a batch of this model is staged.
  virtual Status Execute(const CudaModel& model, const ExecuteOptions& options,
                         BatchTiming* timing) = 0;
  // The staged batch's results, after Execute: search bounds (RMI) or scores (others).
  virtual Status CollectBounds(SearchBound* out, BatchTiming* timing) = 0;
  virtual Status CollectScores(int32_t* out, BatchTiming* timing) = 0;

  // Stage, execute and collect.
  Status PredictBounds(const CudaModel& model, const uint64_t* keys, size_t n, SearchBound* out,
                       const ExecuteOptions& options, BatchTiming* timing);
  Status ScoreIntegers(const CudaModel& model, const uint64_t* keys, size_t n, int32_t* out,
                       const ExecuteOptions& options, BatchTiming* timing);
  Status ScoreStrings(const CudaModel& model, const Slice* keys, size_t n, int32_t* out,
                      const ExecuteOptions& options, BatchTiming* timing);

  // ---- microbenchmarks for learnkv-calibrate ----
  // Each sample: an empty kernel launched and synchronized, host wall clock.
  virtual Status TimeEmptyLaunch(int samples, std::vector<double>* ns) = 0;
  // Each sample: `copies` copies of `bytes` between pinned host memory and the device, back
  // to back in one stream, then one synchronization; the time per copy.
  virtual Status TimeCopies(CopyDirection direction, size_t bytes, int copies, int samples,
                            std::vector<double>* ns) = 0;
  // A device-to-device copy of `bytes`, timed on the device; bytes read plus written per
  // second, the best of `samples`.
  virtual Status DeviceCopyBandwidth(size_t bytes, int samples, double* bytes_per_s) = 0;
};

}  // namespace learnkv::accel::gpu

#endif  // LEARNKV_LEARNED_ACCEL_CUDA_CUDA_DEVICE_H_
