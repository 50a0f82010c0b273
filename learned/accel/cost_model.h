// The cost model of the simulated accelerator: how long a batch of n inferences of one model
// would take on a device (device.h), from the model's work per item (ModelShape) and the
// device's rates. Everything it returns is a prediction; nothing here is measured.
//
// For a batch (or a pipeline chunk) of m items:
//
//   total   = dispatch + weights + h2d + compute + d2h + result
//   h2d     = link_latency + m * in_bytes / link_bandwidth          (0 without input)
//   d2h     = link_latency + m * out_bytes / link_bandwidth         (0 without output)
//   result  = link_latency + batch_out_bytes / link_bandwidth       (a trained model; else 0)
//   weights = link_latency + weight_bytes / link_bandwidth          (only if not resident)
//   compute = max(floor, ops + matrix, memory)                      (the roofline)
//     floor  = dependent_accesses * mem_latency                     (one item's latency)
//     ops    = m * (fp64_ops / fp64_rate + fp32_ops / fp32_rate + int_ops / int_rate)
//     matrix = systolic: sum over layers of folds * (2R + C + T - 2) / clock, with
//                        folds = ceil(K / R) * ceil(N / C) and T = ceil(m / arrays)
//                        (weight-stationary, as SCALE-Sim models it: Samajdar et al., ISPASS
//                        2020); otherwise 2 * m * MACs / matrix_peak
//     memory = m * device_bytes / mem_bandwidth
//
// Pipelined in k chunks of m = ceil(n / k) items (transfers of one chunk overlap the compute
// of another: three stages), the batch takes
//   dispatch + weights + h2d(m) + compute(m) + d2h(m) + (k - 1) * max(h2d, compute, d2h)(m)
//   + result,
// which is never below dispatch + weights + max(h2d(n), compute(n), d2h(n)) + result.
//
// Thread safety: pure functions over value types.
#ifndef LEARNKV_LEARNED_ACCEL_COST_MODEL_H_
#define LEARNKV_LEARNED_ACCEL_COST_MODEL_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "learned/accel/device.h"
#include "learned/filter_classifier.h"
#include "learned/rmi.h"

namespace learnkv::accel {

// Persistent: the names appear in calibration files. Never renumber or rename.
enum class ModelKind : uint8_t {
  kRmi = 0,          // Rmi::Lookup: a mapped key to its search bound
  kNgram = 1,        // NgramClassifier::Score
  kGrid = 2,         // GridClassifier::ScoreMapped
  kMlp = 3,          // Int8Mlp::Score (mlp.h): the reference model of the matrix path
  kRmiTraining = 4,  // RmiBuilder::Finish: one item per key, the whole fit is one batch
};
inline constexpr int kNumModelKinds = 5;
// "rmi", "ngram", "grid", "mlp", "rmi_train".
const char* ModelKindName(ModelKind kind);
bool ParseModelKind(const std::string& name, ModelKind* kind);

// What one item of a model costs a device. Operation counts are per item, by the precision
// that exact results need (the RMI's bounds are computed in double precision, so a device
// without fp64 cannot reproduce them); memory traffic counts whole 32-byte sectors for random
// gathers. The factories derive the counts from the inference code (see cost_model.cc).
struct ModelShape {
  double fp64_ops = 0;
  double fp32_ops = 0;
  double int_ops = 0;  // 32-bit operations; a 64-bit add counts 2, a 64-bit multiply 4
  // Dense int8 layers (int32 accumulation, so exact on every device): layer i maps
  // layer_dims[i] values to layer_dims[i + 1]. Empty: no matrix work.
  std::vector<uint32_t> layer_dims;
  double in_bytes = 0;            // host to device, per item
  double out_bytes = 0;           // device to host, per item
  double batch_out_bytes = 0;     // device to host once per batch (a trained model)
  double device_bytes = 0;        // device-memory traffic per item
  double dependent_accesses = 1;  // serial device-memory accesses of one item
  double weight_bytes = 0;        // parameters that must be resident in device memory

  double MacsPerItem() const;
  std::string ToString() const;

  // Rmi::Lookup of a trained model (its root kind decides the routing work).
  static ModelShape ForRmi(const RmiStats& stats);
  // A classifier's Score over keys of mean_key_bytes bytes (ngram counts one n-gram order,
  // the default). weight_bytes: its EncodedBytes().
  static ModelShape ForNgram(double weight_bytes, double mean_key_bytes);
  static ModelShape ForGrid(double weight_bytes, double mean_key_bytes);
  static ModelShape ForClassifier(const FilterClassifier& classifier, double mean_key_bytes);
  // An int8 MLP of these layer widths (mlp.h); dims.size() >= 2.
  static ModelShape ForMlp(const std::vector<uint32_t>& dims);
  // Fitting an RMI: one item per key; the trained model (model_bytes) comes back once.
  static ModelShape ForRmiTraining(double model_bytes);
};

struct CostOptions {
  // False: the batch first uploads the model's weights (the first batch of a model).
  bool weights_resident = true;
  // Pipeline chunks (>= 1); raised when one chunk's buffers would not fit device memory.
  uint32_t chunks = 1;
};

// A predicted batch time on a device, in nanoseconds, with the terms it is made of.
struct DeviceCost {
  // False when the device lacks an arithmetic the model needs or the model does not fit its
  // memory; every time is then +infinity and `bound` says why.
  bool supported = true;
  uint32_t chunks = 1;
  double dispatch_ns = 0;
  double weights_ns = 0;
  double h2d_ns = 0;      // one chunk
  double compute_ns = 0;  // one chunk
  double d2h_ns = 0;      // one chunk
  double result_ns = 0;
  double total_ns = 0;
  // The roofline terms of one chunk's compute, and which of them is the largest: "latency",
  // "compute", "memory" (or the reason the model is unsupported).
  double floor_ns = 0;
  double ops_ns = 0;
  double matrix_ns = 0;
  double memory_ns = 0;
  const char* bound = "";
};

DeviceCost EstimateDeviceCost(const DeviceSpec& device, const ModelShape& shape, uint64_t n,
                              const CostOptions& options = CostOptions());
// The cheapest of chunks = 1, 2, 4, ... up to max_chunks (a driver picks its own chunking).
DeviceCost BestDeviceCost(const DeviceSpec& device, const ModelShape& shape, uint64_t n,
                          bool weights_resident, uint32_t max_chunks);

// Cycles a rows x cols weight-stationary array takes for a [t x k] x [k x n] product:
// ceil(k / rows) * ceil(n / cols) folds of 2 rows + cols + t - 2 cycles each. 0 if t = 0.
uint64_t SystolicCycles(uint32_t rows, uint32_t cols, uint64_t k, uint64_t n, uint64_t t);

// The smallest batch size in [1, limit] at which device_ns(n) < cpu_ns(n), or 0 if there is
// none. Doubles n until the device wins, then bisects the last interval, so it assumes the
// device's advantage grows with n (true of linear CPU costs and this cost model).
uint64_t BreakEvenBatchSize(const std::function<double(uint64_t)>& cpu_ns,
                            const std::function<double(uint64_t)>& device_ns, uint64_t limit);

}  // namespace learnkv::accel

#endif  // LEARNKV_LEARNED_ACCEL_COST_MODEL_H_
