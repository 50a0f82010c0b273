// CPU calibration: timing the real inference code, and the calibration file (see
// cpu_calibration.h).
//
// What a point measures: a batch of b items evaluates the first b keys of a probe pool (a
// larger batch cycles through the pool) and stores b results, repeated until the point has
// run min_point_ms. Small batches therefore run on keys already in cache, as a MultiGet's
// keys are, while large ones stream their keys and results through memory; the model's own
// accesses are random either way. Probes are half keys of the training set and half random
// values between its ends, shuffled.
#include "learned/accel/cpu_calibration.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>
#include <memory>
#include <sstream>
#include <thread>

#include "learned/accel/kv_text.h"
#include "learned/accel/mlp.h"
#include "learned/filter_classifier.h"
#include "learned/key_mapping.h"
#include "learned/rmi.h"
#include "util/coding.h"
#include "util/random.h"

namespace learnkv::accel {

namespace {

constexpr int kFileVersion = 1;

using Clock = std::chrono::steady_clock;

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Keeps results alive so that the timed loops are not optimized away.
volatile uint64_t g_sink = 0;

// Times batches of b items of eval(i) (i: the item's index in the probe pool) into a result
// buffer; returns nanoseconds per item, the least of o.trials trials (the least is the one
// other processes disturbed least; the first trial also warms caches and pages up). Small
// batches run in groups between clock reads so that reading the clock never shows.
template <typename Eval>
double TimePoint(uint64_t b, uint64_t pool, const CalibrationOptions& o, Eval&& eval,
                 std::vector<uint64_t>* results) {
  const uint64_t slots = std::min<uint64_t>(b, results->size());
  const uint64_t batches_per_check = std::max<uint64_t>(1, 4096 / b);
  uint64_t* out = results->data();
  double best = std::numeric_limits<double>::infinity();
  for (uint32_t trial = 0; trial < o.trials; ++trial) {
    uint64_t items = 0;
    const Clock::time_point start = Clock::now();
    double ms = 0;
    bool cut = false;
    do {
      for (uint64_t r = 0; r < batches_per_check && !cut; ++r) {
        uint64_t probe = 0, slot = 0;
        for (uint64_t done = 0; done < b;) {
          const uint64_t chunk = std::min<uint64_t>(b - done, 65536);
          for (uint64_t i = 0; i < chunk; ++i) {
            out[slot] = eval(probe);
            if (++probe == pool) probe = 0;
            if (++slot == slots) slot = 0;
          }
          done += chunk;
          items += chunk;
          // A huge batch is cut short once the point's time is spent (checked every 64K).
          if (chunk == 65536 && MillisSince(start) > o.max_point_ms) {
            cut = true;
            break;
          }
        }
        g_sink = g_sink + out[0] + out[slots - 1];
      }
      ms = MillisSince(start);
    } while (!cut && ms < o.min_point_ms / o.trials && ms < o.max_point_ms);
    best = std::min(best, ms * 1e6 / static_cast<double>(items));
    if (ms >= o.max_point_ms) break;  // one trial of a huge batch is enough
  }
  return std::max(best, 1e-3);
}

std::vector<uint64_t> BatchSizes(const CalibrationOptions& o, uint64_t max) {
  std::vector<uint64_t> sizes;
  for (uint64_t b = 1; b < max; b *= o.growth) sizes.push_back(b);
  sizes.push_back(max);
  return sizes;
}

// A curve of eval over the pool at every batch size.
template <typename Eval>
CpuCurve TimeCurve(const CalibrationOptions& o, uint64_t pool, Eval&& eval) {
  std::vector<uint64_t> results(std::min<uint64_t>(o.max_batch, o.probe_pool));
  CpuCurve curve;
  for (uint64_t b : BatchSizes(o, o.max_batch)) {
    curve.points.emplace_back(b, TimePoint(b, pool, o, eval, &results));
  }
  return curve;
}

CpuCurve CalibrateRmi(const CalibrationOptions& o, const std::vector<uint64_t>& keys) {
  std::vector<uint64_t> copy = keys;
  std::unique_ptr<Rmi> rmi = RmiBuilder(RmiOptions(), std::move(copy)).Finish();
  const std::vector<uint64_t> probes =
      CalibrationProbes(keys, std::min(o.probe_pool, o.max_batch), o.seed + 1);
  const Rmi* model = rmi.get();
  return TimeCurve(o, probes.size(), [&](uint64_t i) {
    const SearchBound b = model->Lookup(probes[i]);
    return b.lo ^ (b.hi << 32);
  });
}

CpuCurve CalibrateGrid(const CalibrationOptions& o, const std::vector<uint64_t>& keys) {
  std::unique_ptr<GridClassifier> grid = CalibrationGrid(keys, o.seed);
  const std::vector<uint64_t> probes =
      CalibrationProbes(keys, std::min(o.probe_pool, o.max_batch), o.seed + 3);
  // The classifier scores byte keys: 8-byte big-endian strings, stored back to back.
  std::string flat(probes.size() * 8, '\0');
  for (size_t i = 0; i < probes.size(); ++i) EncodeBigEndian64(&flat[i * 8], probes[i]);
  const GridClassifier* model = grid.get();
  const char* base = flat.data();
  return TimeCurve(o, probes.size(), [&](uint64_t i) {
    return static_cast<uint64_t>(model->Score(Slice(base + i * 8, 8)));
  });
}

// URL-like keys, the shape the n-gram classifier is meant for; also the MLP's input.
std::vector<std::string> StringProbes(const CalibrationOptions& o) {
  return CalibrationStrings(std::max<uint64_t>(1, std::min(o.probe_pool / 4, o.max_batch)),
                            o.seed + 4);
}

CpuCurve CalibrateNgram(const CalibrationOptions& o, const std::vector<std::string>& probes) {
  std::unique_ptr<NgramClassifier> ngram =
      CalibrationNgram(std::min<size_t>(probes.size(), 5000), o.seed);
  const NgramClassifier* model = ngram.get();
  return TimeCurve(o, probes.size(), [&](uint64_t i) {
    return static_cast<uint64_t>(model->Score(Slice(probes[i])));
  });
}

CpuCurve CalibrateMlp(const CalibrationOptions& o, const std::vector<std::string>& probes) {
  std::unique_ptr<Int8Mlp> mlp = Int8Mlp::Random(o.mlp_dims, o.seed + 8);
  const Int8Mlp* model = mlp.get();
  return TimeCurve(o, probes.size(), [&](uint64_t i) {
    return static_cast<uint64_t>(model->Score(Slice(probes[i])));
  });
}

// Fits of n keys (every (N/n)-th key of the set, so the distribution is the same), timed
// until min_point_ms; nanoseconds per key.
CpuCurve CalibrateTraining(const CalibrationOptions& o, const std::vector<uint64_t>& keys) {
  CpuCurve curve;
  const uint64_t max = std::min<uint64_t>(o.max_training_keys, keys.size());
  for (uint64_t n : BatchSizes(o, max)) {
    std::vector<uint64_t> sample(n);
    const double stride = static_cast<double>(keys.size()) / static_cast<double>(n);
    for (uint64_t i = 0; i < n; ++i) sample[i] = keys[static_cast<size_t>(i * stride)];
    // Each fit timed alone, the fastest kept (as TimePoint's trials).
    double total_ms = 0, best = std::numeric_limits<double>::infinity();
    for (uint32_t fits = 0; fits < o.trials || total_ms < o.min_point_ms; ++fits) {
      std::vector<uint64_t> copy = sample;  // not timed: Finish consumes its keys
      const Clock::time_point start = Clock::now();
      std::unique_ptr<Rmi> rmi = RmiBuilder(RmiOptions(), std::move(copy)).Finish();
      const double ms = MillisSince(start);
      g_sink = g_sink + rmi->num_keys();
      best = std::min(best, ms);
      total_ms += ms;
      if (total_ms > o.max_point_ms) break;
    }
    curve.points.emplace_back(n, std::max(best * 1e6 / static_cast<double>(n), 1e-3));
  }
  return curve;
}

std::string DescribeCurve(ModelKind kind, const CpuCurve& c) {
  std::ostringstream out;
  out << ModelKindName(kind) << ": " << c.points.size() << " points, "
      << FormatDouble(std::round(c.points.front().second * 10) / 10) << " ns/item at batch "
      << c.points.front().first << ", "
      << FormatDouble(std::round(c.points.back().second * 10) / 10) << " at "
      << c.points.back().first;
  return out.str();
}

std::string Origin(const CalibrationOptions& o) {
  char host[256] = "unknown";
  gethostname(host, sizeof(host) - 1);
  char when[64] = "";
  const std::time_t now = std::time(nullptr);
  std::tm tm;
  gmtime_r(&now, &tm);
  std::strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string("measured on ") + host + " at " + when + " (" +
         std::to_string(std::thread::hardware_concurrency()) + " hardware threads, one timed; " +
         DatasetName(o.dataset) + " keys, " + std::to_string(o.model_keys) + " in the models)";
}

}  // namespace

double CpuCurve::NsPerItem(uint64_t n) const {
  if (n <= points.front().first) return points.front().second;
  if (n >= points.back().first) return points.back().second;
  const auto hi = std::lower_bound(points.begin(), points.end(), n,
                                   [](const auto& p, uint64_t v) { return p.first < v; });
  const auto lo = hi - 1;
  const double t =
      (std::log2(static_cast<double>(n)) - std::log2(static_cast<double>(lo->first))) /
      (std::log2(static_cast<double>(hi->first)) - std::log2(static_cast<double>(lo->first)));
  return lo->second + t * (hi->second - lo->second);
}

double CpuCalibration::PredictNs(ModelKind kind, uint64_t n) const {
  const CpuCurve& c = curve(kind);
  if (c.empty()) return std::numeric_limits<double>::infinity();
  return c.BatchNs(n);
}

std::string CpuCalibration::ToText() const {
  std::string out =
      "# learnkv CPU calibration: measured nanoseconds per item by batch size "
      "(docs/accelerator.md)\n";
  AppendKeyValue(&out, "version", std::to_string(kFileVersion));
  AppendKeyValue(&out, "origin", origin_);
  for (int k = 0; k < kNumModelKinds; ++k) {
    if (curves_[k].empty()) continue;
    std::string value;
    for (const auto& [batch, ns] : curves_[k].points) {
      if (!value.empty()) value.push_back(' ');
      value += std::to_string(batch) + ":" + FormatDouble(ns);
    }
    AppendKeyValue(&out, ModelKindName(static_cast<ModelKind>(k)), value);
  }
  return out;
}

Status CpuCalibration::Parse(const std::string& text, CpuCalibration* result) {
  KeyValues entries;
  Status s = ParseKeyValueText(text, "cpu calibration", &entries);
  if (!s.ok()) return s;
  CpuCalibration c;
  bool have_version = false;
  for (const auto& [key, value] : entries) {
    if (key == "version") {
      uint64_t v;
      if (!ParseUint64(value, &v) || v != kFileVersion) {
        return Status::InvalidArgument("cpu calibration: unsupported version", value);
      }
      have_version = true;
      continue;
    }
    if (key == "origin") {
      c.origin_ = value;
      continue;
    }
    ModelKind kind;
    if (!ParseModelKind(key, &kind))
      return Status::InvalidArgument("cpu calibration: unknown kind", key);
    CpuCurve curve;
    std::istringstream in(value);
    std::string point;
    while (in >> point) {
      const size_t colon = point.find(':');
      uint64_t batch;
      double ns;
      if (colon == std::string::npos || !ParseUint64(point.substr(0, colon), &batch) ||
          !ParseDouble(point.substr(colon + 1), &ns) || batch == 0 || !(ns > 0) ||
          (!curve.points.empty() && batch <= curve.points.back().first)) {
        return Status::InvalidArgument("cpu calibration: bad point for " + key, point);
      }
      curve.points.emplace_back(batch, ns);
    }
    if (curve.empty()) return Status::InvalidArgument("cpu calibration: empty curve", key);
    c.SetCurve(kind, std::move(curve));
  }
  if (!have_version) return Status::InvalidArgument("cpu calibration: no version");
  *result = std::move(c);
  return Status::OK();
}

Status CpuCalibration::Save(Env* env, const std::string& path) const {
  return WriteStringToFile(env, ToText(), path, true);
}

Status CpuCalibration::Load(Env* env, const std::string& path, CpuCalibration* result) {
  std::string text;
  Status s = ReadFileToString(env, path, &text);
  if (s.ok()) s = Parse(text, result);
  if (s.ok()) result->origin_ += "; loaded from " + path;
  return s;
}

Status CalibrateCpu(const CalibrationOptions& o, CpuCalibration* result) {
  if (o.growth < 2 || o.max_batch == 0 || o.model_keys < 2 || o.probe_pool == 0 || o.trials == 0 ||
      o.max_training_keys == 0 || !(o.min_point_ms >= 0) || !(o.max_point_ms > 0) ||
      o.mlp_dims.size() < 2 || !IsIntegerDataset(o.dataset)) {
    return Status::InvalidArgument("cpu calibration: options out of range");
  }
  for (uint32_t d : o.mlp_dims) {
    if (d == 0 || d > Int8Mlp::kMaxWidth)
      return Status::InvalidArgument("cpu calibration: mlp width");
  }
  auto wants = [&](ModelKind k) {
    return std::find(o.kinds.begin(), o.kinds.end(), k) != o.kinds.end();
  };
  CpuCalibration c;
  c.set_origin(Origin(o));
  auto done = [&](ModelKind kind, CpuCurve curve) {
    if (o.progress) o.progress(DescribeCurve(kind, curve));
    c.SetCurve(kind, std::move(curve));
  };
  std::vector<uint64_t> keys;
  if (wants(ModelKind::kRmi) || wants(ModelKind::kGrid) || wants(ModelKind::kRmiTraining)) {
    keys = CalibrationKeys(o.dataset, o.model_keys, o.seed);
  }
  if (wants(ModelKind::kRmi)) done(ModelKind::kRmi, CalibrateRmi(o, keys));
  if (wants(ModelKind::kGrid)) done(ModelKind::kGrid, CalibrateGrid(o, keys));
  std::vector<std::string> strings;
  if (wants(ModelKind::kNgram) || wants(ModelKind::kMlp)) strings = StringProbes(o);
  if (wants(ModelKind::kNgram)) done(ModelKind::kNgram, CalibrateNgram(o, strings));
  if (wants(ModelKind::kMlp)) done(ModelKind::kMlp, CalibrateMlp(o, strings));
  if (wants(ModelKind::kRmiTraining)) done(ModelKind::kRmiTraining, CalibrateTraining(o, keys));
  *result = std::move(c);
  return Status::OK();
}

std::vector<uint64_t> CalibrationKeys(Dataset dataset, uint64_t n, uint64_t seed) {
  std::vector<std::string> keys = GenerateSortedKeys(dataset, n, seed);
  std::vector<uint64_t> mapped(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) mapped[i] = DecodeBigEndian64(keys[i].data());
  return mapped;
}

std::vector<uint64_t> CalibrationProbes(const std::vector<uint64_t>& keys, uint64_t n,
                                        uint64_t seed) {
  Random rnd(seed);
  std::vector<uint64_t> probes(n);
  const uint64_t span = keys.back() - keys.front();
  for (uint64_t i = 0; i < n; ++i) {
    probes[i] = (i & 1)
                    ? keys[rnd.Uniform64(keys.size())]
                    : keys.front() + (span == UINT64_MAX ? rnd.Next64() : rnd.Uniform64(span + 1));
  }
  return probes;
}

std::vector<std::string> CalibrationStrings(uint64_t n, uint64_t seed) {
  std::vector<std::string> keys = GenerateSortedKeys(Dataset::kUrl, n, seed);
  Random rnd(seed + 1);
  for (size_t i = keys.size(); i > 1; --i) std::swap(keys[i - 1], keys[rnd.Uniform64(i)]);
  return keys;
}

std::unique_ptr<GridClassifier> CalibrationGrid(const std::vector<uint64_t>& keys, uint64_t seed) {
  const uint64_t span = keys.back() - keys.front();
  int shift = 0;
  while (shift < 63 &&
         (span >> shift) >= std::min<uint64_t>(GridClassifier::kMaxCells / 2, 4 * keys.size())) {
    ++shift;
  }
  return GridClassifier::Train(KeyMapper(), keys, CalibrationProbes(keys, 20000, seed + 2), shift,
                               2);
}

std::unique_ptr<NgramClassifier> CalibrationNgram(size_t train, uint64_t seed) {
  std::vector<std::string> pos_keys = GenerateSortedKeys(Dataset::kUrl, train, seed + 6);
  std::vector<std::string> neg_keys = GenerateAbsentKeys(Dataset::kUrl, pos_keys, train, seed + 7);
  std::vector<Slice> pos(pos_keys.begin(), pos_keys.end());
  std::vector<Slice> neg(neg_keys.begin(), neg_keys.end());
  NgramTrainOptions train_options;
  train_options.epochs = 1;
  return std::move(NgramClassifier::Train(pos, neg, train_options, {WeightBits::k8}).front());
}

}  // namespace learnkv::accel
