// RMI training (Kraska et al., SIGMOD 2018, section 3.3: a root model routes each key to one
// of N linear leaf models, each of which stores its min/max training error).
//
// Finish() has two phases:
//  1. Choice. Each candidate (root kind and knot count x leaf count) gets its root trained
//     (cheap: O(knots) or a 64k-key sample) and its leaves evaluated only where 32-256 evenly
//     spaced sample keys land (about n/64 keys of fitting per candidate); the mean over those
//     keys of log2(window + 1) feeds a lookup-cost estimate (EstimateLookupNanos), and the
//     cheapest candidate wins.
//  2. Training. The winner's leaves are trained on every key: each leaf's first position is
//     found by a galloping search with the root, then each leaf compares two lines (FitLeaf)
//     and measures the chosen one's errors on every key, and mean_abs_error is measured on
//     every 8th key. About 1.5 passes over the keys in all, each leaf's keys out of L1/L2.
#include <algorithm>
#include <cassert>
#include <chrono>
#include <cmath>
#include <limits>

#include "learned/rmi.h"
#include "learned/rmi_internal.h"

namespace learnkv {

using rmi_internal::Leaf;
using rmi_internal::Rep;

namespace {

constexpr uint64_t kMaxCoarseKnots = 256;
constexpr uint64_t kMaxFineKnots = 4096;
constexpr uint64_t kRootSampleKeys = 65536;
// Candidate evaluation: between 32 and 256 sample keys, and about max(n / 64, 8192) keys of
// leaf fitting per candidate, each leaf fitted on at most 1024 (strided) keys.
constexpr uint64_t kEvalMinSamples = 32;
constexpr uint64_t kEvalMaxSamples = 256;
constexpr uint64_t kEvalMinKeys = 8192;
constexpr uint64_t kEvalKeysDivisor = 64;
constexpr uint64_t kEvalMaxKeysPerLeaf = 1024;
// Automatic leaf counts are n / these, within the byte budget (plus the budget itself).
constexpr uint64_t kLeafDivisors[] = {16, 64, 256, 1024, 4096};

void SetLeafCount(uint32_t num_leaves, Rep* rep) {
  rep->num_leaves = num_leaves;
  rep->max_leaf = static_cast<double>(num_leaves - 1);
}

// Least squares of position on key over a strided sample, rescaled from positions to leaves.
void TrainLinearRoot(const std::vector<uint64_t>& keys, uint32_t num_leaves, Rep* rep) {
  rep->root_kind = RmiRootKind::kLinear;
  SetLeafCount(num_leaves, rep);
  rep->knot_x.clear();
  rep->knot_y.clear();
  rep->knot_table.clear();
  rep->root_min = keys.empty() ? 0 : keys.front();
  rep->root_slope = 0;
  rep->root_intercept = 0;
  const uint64_t n = keys.size();
  if (n == 0) return;
  const uint64_t m = std::min(n, kRootSampleKeys);
  double mean_d = 0, mean_i = 0;
  for (uint64_t t = 0; t < m; ++t) {
    const uint64_t i = t * n / m;
    mean_d += static_cast<double>(keys[i] - rep->root_min);
    mean_i += static_cast<double>(i);
  }
  mean_d /= static_cast<double>(m);
  mean_i /= static_cast<double>(m);
  double cov = 0, var = 0;
  for (uint64_t t = 0; t < m; ++t) {
    const uint64_t i = t * n / m;
    const double dd = static_cast<double>(keys[i] - rep->root_min) - mean_d;
    cov += dd * (static_cast<double>(i) - mean_i);
    var += dd * dd;
  }
  double slope = var > 0 ? cov / var : 0.0;
  if (!(slope > 0) || !std::isfinite(slope)) slope = 0;  // also catches NaN
  const double scale = static_cast<double>(num_leaves) / static_cast<double>(n);
  double intercept = (mean_i - slope * mean_d) * scale;
  slope *= scale;
  if (!std::isfinite(slope) || !std::isfinite(intercept)) slope = intercept = 0;
  rep->root_slope = slope;
  rep->root_intercept = intercept;
}

// Knots at equal-count quantiles (duplicate key values keep their first knot), with y the
// knot's position in leaf units. False when the keys have fewer than two distinct values.
bool TrainSplineRoot(const std::vector<uint64_t>& keys, uint32_t num_leaves, uint64_t num_knots,
                     Rep* rep) {
  rep->root_kind = RmiRootKind::kLinearSpline;
  SetLeafCount(num_leaves, rep);
  rep->knot_x.clear();
  rep->knot_y.clear();
  const uint64_t n = keys.size();
  if (n < 2 || keys.front() == keys.back()) return false;
  const double scale = static_cast<double>(num_leaves) / static_cast<double>(n);
  for (uint64_t k = 0; k < num_knots; ++k) {
    const uint64_t i = k * (n - 1) / (num_knots - 1);
    if (!rep->knot_x.empty() && keys[i] == rep->knot_x.back()) continue;
    rep->knot_x.push_back(keys[i]);
    rep->knot_y.push_back({static_cast<double>(i) * scale, 0.0});
  }
  rmi_internal::FinishKnots(rep);
  return true;
}

// Radix root: the top bits of (x - min), shifted so that the key range spans < num_leaves.
void TrainRadixRoot(const std::vector<uint64_t>& keys, uint32_t num_leaves, Rep* rep) {
  rep->root_kind = RmiRootKind::kRadix;
  SetLeafCount(num_leaves, rep);
  rep->knot_x.clear();
  rep->knot_y.clear();
  rep->knot_table.clear();
  rep->root_min = keys.empty() ? 0 : keys.front();
  const uint64_t range = keys.empty() ? 0 : keys.back() - keys.front();
  uint32_t shift = 0;
  while (shift < 63 && (range >> shift) >= num_leaves) ++shift;
  rep->radix_shift = shift;
}

bool TrainRoot(const std::vector<uint64_t>& keys, RmiRootKind kind, uint32_t num_leaves,
               uint64_t num_knots, Rep* rep) {
  switch (kind) {
    case RmiRootKind::kLinearSpline:
      return TrainSplineRoot(keys, num_leaves, num_knots, rep);
    case RmiRootKind::kRadix:
      TrainRadixRoot(keys, num_leaves, rep);
      return true;
    case RmiRootKind::kLinear:
    default:
      TrainLinearRoot(keys, num_leaves, rep);
      return true;
  }
}

// Sets min_err/max_err of *leaf from every stride-th key of [begin, end) (and the last key).
// stride > 1 only estimates the errors, for comparing candidates.
void MeasureErrors(const uint64_t* keys, uint32_t stride, Leaf* leaf) {
  const Leaf l = *leaf;  // a local copy: the compiler need not reload it after each key
  int64_t lo = std::numeric_limits<int64_t>::max();
  int64_t hi = std::numeric_limits<int64_t>::min();
  auto visit = [&](uint32_t i) {
    const int64_t err = static_cast<int64_t>(i - l.begin) - rmi_internal::LeafOffset(l, keys[i]);
    lo = std::min(lo, err);
    hi = std::max(hi, err);
  };
  for (uint32_t i = l.begin; i < l.end; i += stride) visit(i);
  if (stride > 1) visit(l.end - 1);
  leaf->min_err = static_cast<int32_t>(lo);
  leaf->max_err = static_cast<int32_t>(hi);
}

uint64_t Width(const Leaf& leaf) {
  return static_cast<uint64_t>(static_cast<int64_t>(leaf.max_err) - leaf.min_err + 1);
}

// Trains the leaf for positions [begin, end): the least-squares slope or the slope through the
// first and last keys, whichever gives the narrower error window (least squares wins on about
// 60% of leaves, by about 12%). To keep training near one pass over the keys, the
// least-squares sums use every 4th key and large leaves compare the two lines on every 8th;
// only the chosen line's errors are measured on every key (every stride-th, as in
// MeasureErrors, when only estimating).
Leaf FitLeaf(const uint64_t* keys, uint32_t begin, uint32_t end, uint32_t stride) {
  Leaf leaf;
  leaf.begin = begin;
  leaf.end = end;
  if (begin == end) return leaf;
  leaf.base = keys[begin];
  const uint32_t size = end - begin;
  const uint64_t range = keys[end - 1] - leaf.base;
  if (range == 0) {  // one distinct key: q = 0, so the errors are the offsets themselves
    leaf.max_err = static_cast<int32_t>(size - 1);
    return leaf;
  }
  leaf.slope = static_cast<double>(size - 1) / static_cast<double>(range);

  const uint32_t sum_stride = std::max<uint32_t>(stride, size > 64 ? 4 : 1);
  double count = 0, sum_d = 0, sum_y = 0, sum_dd = 0, sum_dy = 0;
  for (uint32_t i = begin; i < end; i += sum_stride) {
    const double d = rmi_internal::ToDouble(keys[i] - leaf.base);
    const double y = static_cast<double>(i - begin);
    count += 1;
    sum_d += d;
    sum_y += y;
    sum_dd += d * d;
    sum_dy += d * y;
  }
  const double sxx = sum_dd - sum_d * sum_d / count;
  const double sxy = sum_dy - sum_d * sum_y / count;
  const double ls_slope = sxx > 0 ? sxy / sxx : 0.0;
  if (!(ls_slope > 0) || !std::isfinite(ls_slope) || ls_slope == leaf.slope) {
    MeasureErrors(keys, stride, &leaf);
    return leaf;
  }
  const uint32_t probe_stride = std::max<uint32_t>(stride, size > 256 ? 8 : 1);
  Leaf alt = leaf;
  alt.slope = ls_slope;
  MeasureErrors(keys, probe_stride, &leaf);
  MeasureErrors(keys, probe_stride, &alt);
  if (Width(alt) < Width(leaf)) leaf = alt;
  if (probe_stride != stride) MeasureErrors(keys, stride, &leaf);
  return leaf;
}

uint64_t LeafWindow(const Leaf& leaf) {
  const uint64_t size = leaf.end - leaf.begin;
  return std::min(Width(leaf), size);
}

// The first position at or after `from` whose key routes to leaf >= j (n if none), given that
// every key before `from` routes below j. Galloping, so logarithmic in the distance.
uint64_t FirstRoutedAtLeast(const std::vector<uint64_t>& keys, const Rep& rep, uint32_t j,
                            uint64_t from) {
  const uint64_t n = keys.size();
  if (from >= n || rep.Route(keys[from]) >= j) return from;
  uint64_t lo = from, step = 1;  // keys[lo] routes below j
  while (lo + step < n && rep.Route(keys[lo + step]) < j) {
    lo += step;
    step *= 2;
  }
  uint64_t hi = std::min(lo + step, n);  // keys[hi] routes to >= j, or hi = n
  while (hi - lo > 1) {
    const uint64_t mid = lo + (hi - lo) / 2;
    (rep.Route(keys[mid]) < j ? lo : hi) = mid;
  }
  return hi;
}

// The positions [begin, end) routed to leaf j, given that position p is. Galloping from p, so
// the cost is logarithmic in the leaf's size.
void FindLeafRange(const std::vector<uint64_t>& keys, const Rep& rep, uint32_t j, uint64_t p,
                   uint64_t* begin, uint64_t* end) {
  // begin: the first position whose key routes to >= j, searched downwards from p.
  // Invariant: keys[hi] routes to >= j; once found, keys[lo] routes below j.
  uint64_t hi = p, step = 1;
  while (step <= hi && rep.Route(keys[hi - step]) >= j) {
    hi -= step;
    step *= 2;
  }
  uint64_t lo;
  if (step <= hi) {
    lo = hi - step;
  } else if (hi > 0 && rep.Route(keys[0]) < j) {
    lo = 0;
  } else {
    lo = hi = 0;  // every key up to p routes to >= j
  }
  while (hi - lo > 1) {
    const uint64_t mid = lo + (hi - lo) / 2;
    (rep.Route(keys[mid]) < j ? lo : hi) = mid;
  }
  *begin = hi;
  *end = FirstRoutedAtLeast(keys, rep, j + 1, p);
}

// Mean over sample keys of log2(window + 1) of the leaf each lands in (an estimate of the
// mean over all keys, since evenly spaced keys hit leaves in proportion to their sizes).
double EstimateMeanLog2Window(const std::vector<uint64_t>& keys, const Rep& rep) {
  const uint64_t n = keys.size();
  const uint64_t keys_per_leaf = std::clamp<uint64_t>(n / rep.num_leaves, 1, kEvalMaxKeysPerLeaf);
  const uint64_t budget = std::max(n / kEvalKeysDivisor, kEvalMinKeys);
  const uint64_t samples =
      std::min(n, std::clamp(budget / keys_per_leaf, kEvalMinSamples, kEvalMaxSamples));
  uint32_t cached_leaf = std::numeric_limits<uint32_t>::max();
  double cached_log2 = 0, sum = 0;
  for (uint64_t t = 0; t < samples; ++t) {
    const uint64_t p = (2 * t + 1) * n / (2 * samples);
    const uint32_t j = rep.Route(keys[p]);
    if (j != cached_leaf) {
      uint64_t begin, end;
      FindLeafRange(keys, rep, j, p, &begin, &end);
      const uint64_t size = end - begin;
      const uint32_t stride =
          static_cast<uint32_t>(std::max<uint64_t>(1, size / kEvalMaxKeysPerLeaf));
      const Leaf leaf =
          FitLeaf(keys.data(), static_cast<uint32_t>(begin), static_cast<uint32_t>(end), stride);
      cached_leaf = j;
      cached_log2 = std::log2(static_cast<double>(LeafWindow(leaf)) + 1.0);
    }
    sum += cached_log2;
  }
  return samples > 0 ? sum / static_cast<double>(samples) : 0.0;
}

// Positions sampled for mean_abs_error: every kAbsErrorStride-th key.
constexpr uint32_t kAbsErrorStride = 8;

void TrainLeaves(const std::vector<uint64_t>& keys, Rep* rep) {
  // Leaf boundaries by searching the sorted keys with Route (monotone), rather than routing
  // every key: O(num_leaves * log(keys per leaf)) evaluations.
  const uint32_t num_leaves = rep->num_leaves;
  std::vector<uint32_t> first(num_leaves + 1, static_cast<uint32_t>(keys.size()));
  first[0] = 0;
  for (uint32_t j = 1; j < num_leaves; ++j) {
    first[j] = static_cast<uint32_t>(FirstRoutedAtLeast(keys, *rep, j, first[j - 1]));
  }
  rep->leaves.resize(num_leaves);
  uint64_t max_abs = 0, abs_count = 0;
  double sum_abs = 0;
  for (uint32_t j = 0; j < num_leaves; ++j) {
    const Leaf leaf = FitLeaf(keys.data(), first[j], first[j + 1], 1);
    rep->leaves[j] = leaf;
    if (leaf.begin == leaf.end) continue;
    // The estimate sits mid-window, so no key is farther from it than the window's far edge.
    const int64_t mid = leaf.min_err + (static_cast<int64_t>(leaf.max_err) - leaf.min_err) / 2;
    max_abs = std::max<uint64_t>(max_abs, std::max(mid - leaf.min_err, leaf.max_err - mid));
    const uint32_t start = (leaf.begin + kAbsErrorStride - 1) / kAbsErrorStride * kAbsErrorStride;
    for (uint32_t i = start; i < leaf.end; i += kAbsErrorStride) {
      const int64_t q = rmi_internal::LeafOffset(leaf, keys[i]);
      const int64_t err =
          static_cast<int64_t>(i - leaf.begin) - rmi_internal::LeafEstimate(leaf, q);
      sum_abs += static_cast<double>(err < 0 ? -err : err);
      ++abs_count;
    }
  }
  rep->stats.max_abs_error = max_abs;
  rep->stats.mean_abs_error = abs_count == 0 ? 0.0 : sum_abs / static_cast<double>(abs_count);
}

// Leaf counts to compare: n / kLeafDivisors within the byte budget left after the root, plus
// the largest count the budget allows. Never empty.
std::vector<uint32_t> AutoLeafCounts(uint64_t n, size_t root_bytes, double max_bytes_per_key) {
  const double budget = max_bytes_per_key > 0 ? max_bytes_per_key * static_cast<double>(n) : 0.0;
  const double avail = budget - static_cast<double>(root_bytes);
  uint64_t cap = avail > 0 ? static_cast<uint64_t>(avail / rmi_internal::kLeafBytes) : 1;
  cap = std::clamp<uint64_t>(cap, 1, std::max<uint64_t>(n, 1));
  std::vector<uint32_t> counts;
  if (cap < n / kLeafDivisors[0]) counts.push_back(static_cast<uint32_t>(cap));
  for (uint64_t div : kLeafDivisors) {
    const uint64_t c = n / div;
    if (c >= 1 && c <= cap) counts.push_back(static_cast<uint32_t>(c));
  }
  if (counts.empty()) counts.push_back(1);
  std::sort(counts.begin(), counts.end());
  counts.erase(std::unique(counts.begin(), counts.end()), counts.end());
  return counts;
}

}  // namespace

RmiBuilder::RmiBuilder(const RmiOptions& options) : options_(options) {}
RmiBuilder::RmiBuilder(const RmiOptions& options, std::vector<uint64_t>&& keys)
    : options_(options), keys_(std::move(keys)) {
  assert(std::is_sorted(keys_.begin(), keys_.end()));
  assert(keys_.size() < kMaxKeys);
}
RmiBuilder::~RmiBuilder() = default;

void RmiBuilder::Add(uint64_t x) {
  assert(keys_.empty() || x >= keys_.back());
  assert(keys_.size() < kMaxKeys);
  keys_.push_back(x);
}

std::unique_ptr<Rmi> RmiBuilder::Finish() {
  const auto start = std::chrono::steady_clock::now();
  const uint64_t n = keys_.size();
  const double budget =
      options_.max_bytes_per_key > 0 ? options_.max_bytes_per_key * static_cast<double>(n) : 0.0;
  // Spline knot counts to compare: a coarse spline (one knot per 16 keys at most, at most half
  // the byte budget, at most 256 knots) and, for large tables, a fine one (one per 64 keys, a
  // quarter of the budget, at most 4096) that resolves clustered keys at a higher root cost.
  const uint64_t coarse_knots = std::clamp<uint64_t>(
      std::min<uint64_t>(n / 16, static_cast<uint64_t>(budget / 2 / rmi_internal::kKnotBytes)), 2,
      kMaxCoarseKnots);
  const uint64_t fine_knots = std::min<uint64_t>(
      {kMaxFineKnots, n / 64, static_cast<uint64_t>(budget / 4 / rmi_internal::kKnotBytes)});
  std::vector<uint64_t> knot_counts = {coarse_knots};
  if (fine_knots > coarse_knots) knot_counts.push_back(fine_knots);

  std::vector<RmiRootKind> kinds;
  if (options_.auto_root) {
    kinds = {RmiRootKind::kLinearSpline, RmiRootKind::kLinear, RmiRootKind::kRadix};
  } else {
    kinds = {options_.root_kind};
  }
  struct Candidate {
    RmiRootKind kind;
    uint32_t num_leaves;
    uint64_t num_knots;  // for kLinearSpline
  };
  std::vector<Candidate> candidates;
  for (RmiRootKind kind : kinds) {
    const bool spline = kind == RmiRootKind::kLinearSpline;
    for (uint64_t knots : spline ? knot_counts : std::vector<uint64_t>{0}) {
      if (options_.num_leaves > 0) {
        const uint64_t fixed = std::min<uint64_t>(options_.num_leaves, std::max<uint64_t>(n, 1));
        candidates.push_back({kind, static_cast<uint32_t>(fixed), knots});
        continue;
      }
      const size_t root_bytes = rmi_internal::RootBytes(kind, knots);
      for (uint32_t c : AutoLeafCounts(n, root_bytes, options_.max_bytes_per_key)) {
        candidates.push_back({kind, c, knots});
      }
    }
  }

  auto rep = std::make_unique<Rep>();
  Candidate best = candidates.front();
  if (candidates.size() > 1) {
    double best_cost = std::numeric_limits<double>::infinity();
    for (const Candidate& c : candidates) {
      if (!TrainRoot(keys_, c.kind, c.num_leaves, c.num_knots, rep.get())) continue;
      const double cost = rmi_internal::EstimateLookupNanos(
          c.kind, rep->knot_x.size(), c.num_leaves, EstimateMeanLog2Window(keys_, *rep));
      if (cost < best_cost) {
        best_cost = cost;
        best = c;
      }
    }
  }
  // A spline needs two distinct keys; with fewer, every root is as good as a flat line.
  rep = std::make_unique<Rep>();
  if (!TrainRoot(keys_, best.kind, best.num_leaves, best.num_knots, rep.get())) {
    TrainRoot(keys_, RmiRootKind::kLinear, best.num_leaves, 0, rep.get());
  }
  rep->num_keys = n;
  TrainLeaves(keys_, rep.get());
  rmi_internal::FillDerivedStats(rep.get());
  rep->stats.candidates_tried = static_cast<uint32_t>(candidates.size());
  rep->stats.build_micros =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::steady_clock::now() - start)
                                .count());
  keys_.clear();
  keys_.shrink_to_fit();
  return std::unique_ptr<Rmi>(new Rmi(std::move(rep)));
}

}  // namespace learnkv
