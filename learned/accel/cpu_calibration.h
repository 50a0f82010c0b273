// The CPU side of the offload decision: how many nanoseconds one item of each model kind
// costs on this machine, as a function of the batch size, measured by timing the real
// inference code (Rmi::Lookup, NgramClassifier::Score, GridClassifier::Score, Int8Mlp::Score,
// RmiBuilder::Finish) at start-up, or loaded from a file saved by an earlier calibration
// (tools/learnkv_calibrate.cc writes one).
//
// These are the only measured figures the scheduler uses; every device time is simulated.
//
// Calibration file (kv_text.h format), one curve per kind as batch:ns-per-item pairs:
//
//   version = 1
//   origin = measured on host x, 2 threads, ...
//   rmi = 1:31.5 4:24.2 16:22.9 ...
//   ngram = 1:210 4:190 ...
//
// Thread safety: CpuCalibration is a value type; const methods may be called concurrently.
// CalibrateCpu runs on the calling thread (it is single-threaded and takes about as long as
// CalibrationOptions says).
#ifndef LEARNKV_LEARNED_ACCEL_CPU_CALIBRATION_H_
#define LEARNKV_LEARNED_ACCEL_CPU_CALIBRATION_H_

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "learned/accel/cost_model.h"
#include "learned/filter_classifier.h"
#include "learnkv/env.h"
#include "learnkv/status.h"
#include "util/datasets.h"

namespace learnkv::accel {

// Measured cost per item at some batch sizes.
struct CpuCurve {
  // (batch size, nanoseconds per item); batch sizes strictly ascending, costs > 0.
  std::vector<std::pair<uint64_t, double>> points;

  bool empty() const { return points.empty(); }
  // Linear in log2(batch size) between points; the nearest end point's value beyond them.
  // REQUIRES: !empty().
  double NsPerItem(uint64_t n) const;
  double BatchNs(uint64_t n) const { return static_cast<double>(n) * NsPerItem(n); }
};

class CpuCalibration {
 public:
  bool Has(ModelKind kind) const { return !curves_[Index(kind)].empty(); }
  const CpuCurve& curve(ModelKind kind) const { return curves_[Index(kind)]; }
  void SetCurve(ModelKind kind, CpuCurve curve) { curves_[Index(kind)] = std::move(curve); }

  // Predicted CPU time of a batch of n items; +infinity when the kind was not calibrated (so
  // nothing uncalibrated is ever offloaded for being "cheaper").
  double PredictNs(ModelKind kind, uint64_t n) const;

  // Where the figures come from: when and where they were measured, or the file they were
  // loaded from.
  const std::string& origin() const { return origin_; }
  void set_origin(std::string origin) { origin_ = std::move(origin); }

  std::string ToText() const;
  // InvalidArgument on an unknown version or kind, or a malformed curve.
  static Status Parse(const std::string& text, CpuCalibration* result);
  Status Save(Env* env, const std::string& path) const;
  // Parses the file and appends "; loaded from <path>" to its origin.
  static Status Load(Env* env, const std::string& path, CpuCalibration* result);

 private:
  static size_t Index(ModelKind kind) { return static_cast<size_t>(kind); }

  std::array<CpuCurve, kNumModelKinds> curves_;
  std::string origin_;
};

struct CalibrationOptions {
  // Kinds to time. Default: all.
  std::vector<ModelKind> kinds = {ModelKind::kRmi, ModelKind::kNgram, ModelKind::kGrid,
                                  ModelKind::kMlp, ModelKind::kRmiTraining};
  // Batch sizes 1, growth, growth^2, ... up to max_batch (and max_batch itself). A batch of b
  // evaluates b probe keys into b results, as a MultiGet of b keys would. Defaults: 4, 65536
  // (a start-up calibration of well under a second); the tool goes to 16M.
  uint64_t growth = 4;
  uint64_t max_batch = 65536;
  // Integer keys the RMI and the grid classifier are trained on. Default 1M (lognormal).
  uint64_t model_keys = 1 << 20;
  Dataset dataset = Dataset::kLognormal;
  // Distinct probe keys at most (a larger batch cycles through them). Default 1M integers;
  // string pools are capped at a quarter of it. Default 1M.
  uint64_t probe_pool = 1 << 20;
  // Largest RMI fit timed (the training curve's last point). Default 1M.
  uint64_t max_training_keys = 1 << 20;
  // Each point repeats its batch until it has run this long, in `trials` trials of which the
  // fastest counts (the one other processes disturbed least). Defaults: 1 ms, 5.
  double min_point_ms = 1.0;
  uint32_t trials = 5;
  // A batch still running after this long is cut short, its cost per item taken from the
  // items done (the cost per item is flat by then). Default 500 ms.
  double max_point_ms = 500.0;
  std::vector<uint32_t> mlp_dims = {32, 64, 64, 1};  // Int8Mlp::DefaultDims()
  uint64_t seed = 42;
  // Called with one line per kind as it finishes (the tool prints progress). May be empty.
  std::function<void(const std::string&)> progress;
};

// Times every requested kind (see CalibrationOptions) and stores the curves in *result, with
// origin "measured on <host> ...". InvalidArgument for options out of range.
Status CalibrateCpu(const CalibrationOptions& options, CpuCalibration* result);

// The inputs CalibrateCpu times, for a device back end that must time the same work
// (learned/accel/cuda/workload.h):
// n sorted keys of `dataset`, mapped to integers (their first 8 bytes, big-endian);
std::vector<uint64_t> CalibrationKeys(Dataset dataset, uint64_t n, uint64_t seed);
// n probes of those keys, half present, half uniform in [front, back], in random order;
std::vector<uint64_t> CalibrationProbes(const std::vector<uint64_t>& keys, uint64_t n,
                                        uint64_t seed);
// n URL-like strings in random order (the n-gram classifier's and the MLP's input);
std::vector<std::string> CalibrationStrings(uint64_t n, uint64_t seed);
// the grid classifier over `keys` (about four cells per key, as a table's grid would have),
// trained against CalibrationProbes(keys, 20000, seed + 2);
std::unique_ptr<GridClassifier> CalibrationGrid(const std::vector<uint64_t>& keys, uint64_t seed);
// the n-gram classifier, trained for one epoch (weights do not change the cost of a score) on
// `train` URL keys and as many absent ones.
std::unique_ptr<NgramClassifier> CalibrationNgram(size_t train, uint64_t seed);

}  // namespace learnkv::accel

#endif  // LEARNKV_LEARNED_ACCEL_CPU_CALIBRATION_H_
