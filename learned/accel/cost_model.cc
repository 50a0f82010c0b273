// The accelerator cost model (see cost_model.h) and the work per item of each model.
//
// The operation counts below were read off the inference code, one line at a time, and are
// deliberately round: the cost model's error is dominated by the device figures (device.cc),
// not by an operation more or less.
#include "learned/accel/cost_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace learnkv::accel {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kSectorBytes = 32;  // a random gather moves one DRAM sector

// ---- Rmi::Lookup (learned/rmi_internal.h) ----
// Leaf: Above (compare, select, subtract: 3 64-bit ops), ToDouble (2 int ops, 2 conversions,
// a multiply and an add), the slope multiply, the min with the leaf size, the truncation;
// LeafBound adds the two errors and clamps both ends (about 10 64-bit ops).
constexpr double kLeafFp64 = 8, kLeafInt = 6 + 4 + 20;
// Roots: linear = Above + ToDouble + multiply-add + ClampLeaf; radix = Above, a shift and a
// min; spline = KnotBucket (Above, shift, min), about two branch-free search steps over the
// knots (compare, select, add each), then RouteInSegment (ToDouble, multiply-add, min, clamp).
constexpr double kLinearRootFp64 = 9, kLinearRootInt = 10;
constexpr double kRadixRootInt = 12;
constexpr double kSplineRootFp64 = 10, kSplineRootInt = 10 + 2 * 12;

// ---- NgramClassifier::Score (learned/filter_classifier.cc) ----
// Per feature: the rolling n-gram (shift, or, and on 64 bits), the slot hash (add, multiply,
// shift on 64 bits) and the weight's add: about 16 32-bit operations. One feature per key byte
// and order plus the length feature; keys are scored on at most kMaxWholeKey bytes. The weight
// table (2^log2_slots bytes, 4 KiB by default) sits in on-chip memory, so only the key is read
// from device memory.
constexpr double kNgramIntPerFeature = 16;

// ---- GridClassifier::Score ----
// KeyMapper::Map (prefix check, 8-byte load, byte swap: ~8 ops) then ScoreMapped (compare,
// subtract, shift, compare, multiply, shift, load, shift, and, mask on 64 bits: ~20 ops).
constexpr double kGridInt = 28;

// ---- RmiBuilder::Finish (learned/rmi_builder.cc) ----
// Per key: routing (as a lookup), the least-squares sums of its leaf, and a second pass that
// evaluates the leaf model to record the error bounds; candidates are compared on a sample
// only, which adds little per key. Three passes over the keys.
constexpr double kTrainFp64 = 35, kTrainInt = 50, kTrainPasses = 3;

double Div(double work, double rate) { return work <= 0 ? 0 : work / rate; }

// Compute time of m items; sets the roofline terms of *c. Requires a supported shape.
double ComputeNs(const DeviceSpec& d, const ModelShape& s, uint64_t m, DeviceCost* c) {
  const double items = static_cast<double>(m);
  const double macs = s.MacsPerItem();
  c->floor_ns = m == 0 ? 0 : s.dependent_accesses * d.mem_latency_ns;
  double ops = Div(s.fp64_ops * items, d.fp64_ops_per_s) +
               Div(s.fp32_ops * items, d.fp32_ops_per_s) + Div(s.int_ops * items, d.int_ops_per_s);
  double matrix = 0;
  if (macs > 0) {
    if (d.has_systolic()) {
      const uint64_t t = (m + d.systolic_arrays - 1) / d.systolic_arrays;
      uint64_t cycles = 0;
      for (size_t i = 0; i + 1 < s.layer_dims.size(); ++i) {
        cycles += SystolicCycles(d.systolic_rows, d.systolic_cols, s.layer_dims[i],
                                 s.layer_dims[i + 1], t);
      }
      matrix = static_cast<double>(cycles) / d.clock_hz;
    } else if (d.matrix_ops_per_s > 0) {
      matrix = 2 * macs * items / d.matrix_ops_per_s;
    } else {
      ops += 2 * macs * items / d.int_ops_per_s;  // no matrix engine: MACs on the integer units
    }
  }
  c->ops_ns = ops * 1e9;
  c->matrix_ns = matrix * 1e9;
  c->memory_ns = s.device_bytes * items / d.mem_bytes_per_s * 1e9;
  const double work = c->ops_ns + c->matrix_ns;
  if (c->floor_ns >= work && c->floor_ns >= c->memory_ns) {
    c->bound = "latency";
    return c->floor_ns;
  }
  if (work >= c->memory_ns) {
    c->bound = "compute";
    return work;
  }
  c->bound = "memory";
  return c->memory_ns;
}

double TransferNs(const DeviceSpec& d, double bytes) {
  return bytes <= 0 ? 0 : d.link_latency_ns + bytes / d.link_bytes_per_s * 1e9;
}

// Why the device cannot run the shape, or nullptr.
const char* Unsupported(const DeviceSpec& d, const ModelShape& s) {
  if (s.fp64_ops > 0 && d.fp64_ops_per_s <= 0) return "unsupported: no fp64";
  if (s.fp32_ops > 0 && d.fp32_ops_per_s <= 0) return "unsupported: no fp32";
  if (s.int_ops > 0 && d.int_ops_per_s <= 0) return "unsupported: no integer unit";
  if (s.MacsPerItem() > 0 && !d.has_systolic() && d.matrix_ops_per_s <= 0 && d.int_ops_per_s <= 0) {
    return "unsupported: no matrix or integer unit";
  }
  if (s.weight_bytes >= d.mem_bytes) return "unsupported: model exceeds device memory";
  return nullptr;
}

}  // namespace

const char* ModelKindName(ModelKind kind) {
  switch (kind) {
    case ModelKind::kRmi:
      return "rmi";
    case ModelKind::kNgram:
      return "ngram";
    case ModelKind::kGrid:
      return "grid";
    case ModelKind::kMlp:
      return "mlp";
    case ModelKind::kRmiTraining:
      return "rmi_train";
  }
  return "unknown";
}

bool ParseModelKind(const std::string& name, ModelKind* kind) {
  for (int i = 0; i < kNumModelKinds; ++i) {
    if (name == ModelKindName(static_cast<ModelKind>(i))) {
      *kind = static_cast<ModelKind>(i);
      return true;
    }
  }
  return false;
}

double ModelShape::MacsPerItem() const {
  double macs = 0;
  for (size_t i = 0; i + 1 < layer_dims.size(); ++i) {
    macs += static_cast<double>(layer_dims[i]) * layer_dims[i + 1];
  }
  return macs;
}

std::string ModelShape::ToString() const {
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "fp64 %.0f fp32 %.0f int %.0f macs %.0f ops/item, in %.0f out %.0f device %.0f "
                "B/item, %.0f dependent, weights %.0f B",
                fp64_ops, fp32_ops, int_ops, MacsPerItem(), in_bytes, out_bytes, device_bytes,
                dependent_accesses, weight_bytes);
  return buf;
}

ModelShape ModelShape::ForRmi(const RmiStats& stats) {
  ModelShape s;
  s.fp64_ops = kLeafFp64;
  s.int_ops = kLeafInt;
  s.in_bytes = 8;   // the mapped key
  s.out_bytes = 8;  // lo and hi, 32-bit positions
  s.device_bytes = 8 + kSectorBytes + 8;
  s.dependent_accesses = 2;  // the key, then its leaf
  switch (stats.root_kind) {
    case RmiRootKind::kLinear:
      s.fp64_ops += kLinearRootFp64;
      s.int_ops += kLinearRootInt;
      break;
    case RmiRootKind::kRadix:
      s.int_ops += kRadixRootInt;
      break;
    case RmiRootKind::kLinearSpline:
      s.fp64_ops += kSplineRootFp64;
      s.int_ops += kSplineRootInt;
      // The bucket table and two knot probes before the leaf.
      s.device_bytes += 3 * kSectorBytes;
      s.dependent_accesses += 3;
      break;
  }
  s.weight_bytes = static_cast<double>(stats.model_bytes);
  return s;
}

ModelShape ModelShape::ForNgram(double weight_bytes, double mean_key_bytes) {
  const double bytes = std::min<double>(mean_key_bytes, NgramClassifier::kMaxWholeKey);
  ModelShape s;
  // Framed key of bytes + 2 markers: bytes of trigrams (for order 3), plus the length feature.
  s.int_ops = kNgramIntPerFeature * (bytes + 1);
  s.in_bytes = mean_key_bytes + 4;  // the key and its offset
  s.out_bytes = 4;
  s.device_bytes = mean_key_bytes + 4 + 4;
  s.dependent_accesses = 1;
  s.weight_bytes = weight_bytes;
  return s;
}

ModelShape ModelShape::ForGrid(double weight_bytes, double mean_key_bytes) {
  ModelShape s;
  s.int_ops = kGridInt;
  s.in_bytes = mean_key_bytes + 4;
  s.out_bytes = 4;
  s.device_bytes = mean_key_bytes + 4 + kSectorBytes + 4;
  s.dependent_accesses = 2;  // the key, then its cell
  s.weight_bytes = weight_bytes;
  return s;
}

ModelShape ModelShape::ForClassifier(const FilterClassifier& classifier, double mean_key_bytes) {
  const double bytes = static_cast<double>(classifier.EncodedBytes());
  return classifier.kind() == ClassifierKind::kNgram ? ForNgram(bytes, mean_key_bytes)
                                                     : ForGrid(bytes, mean_key_bytes);
}

ModelShape ModelShape::ForMlp(const std::vector<uint32_t>& dims) {
  ModelShape s;
  s.layer_dims = dims;
  double weights = 0;
  for (size_t i = 0; i + 1 < dims.size(); ++i) {
    const bool last = i + 2 == dims.size();
    s.int_ops += (last ? 1.0 : 3.0) * dims[i + 1];  // bias; hidden layers also shift and clamp
    weights += static_cast<double>(dims[i]) * dims[i + 1] + 4.0 * dims[i + 1];
  }
  s.in_bytes = dims.empty() ? 0 : dims.front();  // int8 features
  s.out_bytes = dims.empty() ? 0 : 4.0 * dims.back();
  s.device_bytes = s.in_bytes + s.out_bytes;  // weights stay on chip across the batch
  s.dependent_accesses = 2;                   // the features, then the weights
  s.weight_bytes = weights;
  return s;
}

ModelShape ModelShape::ForRmiTraining(double model_bytes) {
  ModelShape s;
  s.fp64_ops = kTrainFp64;
  s.int_ops = kTrainInt;
  s.in_bytes = 8;
  s.batch_out_bytes = model_bytes;
  s.device_bytes = 8 * kTrainPasses + 8;
  s.dependent_accesses = 2 * kTrainPasses;  // each pass ends in a reduction over its leaves
  return s;
}

uint64_t SystolicCycles(uint32_t rows, uint32_t cols, uint64_t k, uint64_t n, uint64_t t) {
  if (t == 0 || k == 0 || n == 0) return 0;
  const uint64_t folds = ((k + rows - 1) / rows) * ((n + cols - 1) / cols);
  return folds * (2 * uint64_t{rows} + cols + t - 2);
}

DeviceCost EstimateDeviceCost(const DeviceSpec& d, const ModelShape& s, uint64_t n,
                              const CostOptions& options) {
  DeviceCost c;
  if (const char* why = Unsupported(d, s)) {
    c.supported = false;
    c.bound = why;
    c.dispatch_ns = c.weights_ns = c.h2d_ns = c.compute_ns = c.d2h_ns = c.total_ns = kInf;
    return c;
  }
  uint64_t k = std::max<uint64_t>(1, options.chunks);
  // Each chunk's input and output buffers must fit beside the weights.
  const double buffer_bytes = (s.in_bytes + s.out_bytes) * static_cast<double>(n);
  const double room = d.mem_bytes - s.weight_bytes;
  k = std::max<uint64_t>(k, static_cast<uint64_t>(std::ceil(buffer_bytes / room)));
  k = std::min<uint64_t>(k, std::max<uint64_t>(n, 1));
  const uint64_t m = (n + k - 1) / k;
  c.chunks = static_cast<uint32_t>(std::min<uint64_t>(k, UINT32_MAX));
  c.dispatch_ns = d.dispatch_ns;
  c.weights_ns = options.weights_resident ? 0 : TransferNs(d, s.weight_bytes);
  c.h2d_ns = TransferNs(d, s.in_bytes * static_cast<double>(m));
  c.compute_ns = ComputeNs(d, s, m, &c);
  c.d2h_ns = TransferNs(d, s.out_bytes * static_cast<double>(m));
  c.result_ns = TransferNs(d, s.batch_out_bytes);
  const double slowest = std::max({c.h2d_ns, c.compute_ns, c.d2h_ns});
  c.total_ns = c.dispatch_ns + c.weights_ns + c.h2d_ns + c.compute_ns + c.d2h_ns +
               static_cast<double>(k - 1) * slowest + c.result_ns;
  return c;
}

DeviceCost BestDeviceCost(const DeviceSpec& d, const ModelShape& s, uint64_t n,
                          bool weights_resident, uint32_t max_chunks) {
  CostOptions options;
  options.weights_resident = weights_resident;
  DeviceCost best = EstimateDeviceCost(d, s, n, options);
  for (uint64_t k = 2; k <= max_chunks && k <= n; k *= 2) {
    options.chunks = static_cast<uint32_t>(k);
    const DeviceCost c = EstimateDeviceCost(d, s, n, options);
    if (c.total_ns < best.total_ns) best = c;
  }
  return best;
}

uint64_t BreakEvenBatchSize(const std::function<double(uint64_t)>& cpu_ns,
                            const std::function<double(uint64_t)>& device_ns, uint64_t limit) {
  auto device_wins = [&](uint64_t n) { return device_ns(n) < cpu_ns(n); };
  if (limit == 0) return 0;
  uint64_t lo = 0;  // the largest size tried at which the device does not win (0: none)
  uint64_t hi = 1;
  while (!device_wins(hi)) {
    if (hi >= limit) return 0;
    lo = hi;
    hi = std::min(limit, hi * 2);
  }
  while (hi - lo > 1) {
    const uint64_t mid = lo + (hi - lo) / 2;
    (device_wins(mid) ? hi : lo) = mid;
  }
  return hi;
}

}  // namespace learnkv::accel
