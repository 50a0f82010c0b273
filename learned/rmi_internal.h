// Internal representation of a trained RMI, shared by lookup and serialization (rmi.cc) and
// training (rmi_builder.cc). Not part of the public API.
//
// The error bounds a leaf stores are exact only if training evaluates every key with the very
// arithmetic Lookup uses, so both sides call the inline functions below; learned/ is compiled
// with -ffp-contract=off so that no compiler fuses a*b+c on one side only.
//
// Thread safety: a Rep is immutable once built; its const functions may be called concurrently.
#ifndef LEARNKV_LEARNED_RMI_INTERNAL_H_
#define LEARNKV_LEARNED_RMI_INTERNAL_H_

#include <cstdint>
#include <vector>

#include "learned/rmi.h"

namespace learnkv::rmi_internal {

// One second-stage model. Predicted offset within the leaf:
//   q(x) = trunc(min(slope * double(max(x, base) - base), double(end - begin)))
// and the bound is [begin + clamp(q + min_err), begin + clamp(q + max_err + 1)], clamped to
// [0, end - begin]. There is no intercept: a constant shift of every prediction is absorbed by
// min_err/max_err, so it cannot narrow the window. 32 bytes, so a leaf never spans two cache
// lines.
struct alignas(32) Leaf {
  uint64_t base = 0;    // the leaf's first key (0 for an empty leaf)
  double slope = 0;     // finite, >= 0
  int32_t min_err = 0;  // min over the leaf's keys of (position - begin - q(x))
  int32_t max_err = 0;  // max of the same; min_err <= max_err
  uint32_t begin = 0;   // first position routed to this leaf
  uint32_t end = 0;     // begin of the next leaf; num_keys for the last
};
static_assert(sizeof(Leaf) == 32);

// A linear-spline knot and the slope of the segment that starts at it.
struct KnotY {
  double y = 0;      // in leaf units: 0 <= y <= num_leaves, non-decreasing
  double slope = 0;  // (next.y - y) / (next.x - x); 0 for the last knot
};

struct Rep {
  RmiRootKind root_kind = RmiRootKind::kLinear;
  uint64_t num_keys = 0;
  uint32_t num_leaves = 1;
  double max_leaf = 0;  // num_leaves - 1, as a double, for clamping root outputs

  // kLinear: leaf = slope * (max(x, root_min) - root_min) + intercept. kRadix: leaf =
  // (max(x, root_min) - root_min) >> radix_shift.
  uint64_t root_min = 0;
  double root_slope = 0;
  double root_intercept = 0;
  uint32_t radix_shift = 0;

  // kLinearSpline: knot_x strictly increasing; knot_y parallel to it. At least two knots.
  std::vector<uint64_t> knot_x;
  std::vector<KnotY> knot_y;
  // Narrows the knot search, as RadixSpline's radix table does (Kipf et al., aiDM 2020):
  // knot_table[b] = the number of knots whose bucket is < b, where the bucket of x is
  // KnotBucket(x): linear, (x - knot_x[0]) >> knot_shift, or logarithmic (LogBucket) for
  // skewed knots, whichever spreads the knots better. Derived from the knots (FinishKnots),
  // never stored.
  bool knot_log_buckets = false;
  uint32_t knot_shift = 0;
  uint32_t knot_step = 1;  // the largest power of two <= the most knots in one bucket
  std::vector<uint32_t> knot_table;

  std::vector<Leaf> leaves;  // num_leaves entries
  RmiStats stats;

  uint32_t Route(uint64_t x) const;
  size_t KnotBucket(uint64_t x) const;
  uint32_t SplineSegment(uint64_t x) const;
  uint32_t RouteInSegment(uint32_t segment, uint64_t x) const;
};

// The helpers below are monotone non-decreasing in x: each step is a monotone operation on
// doubles (conversion from uint64, multiplication by a non-negative constant, addition of a
// constant, min/max with a constant, truncation of a non-negative value), and IEEE rounding
// preserves order. This is what the bound proofs in rmi.cc rely on.

inline uint64_t Above(uint64_t x, uint64_t base) { return (x > base ? x : base) - base; }

// Exactly static_cast<double>(v) (both halves convert exactly, the scaling is exact, and the sum
// rounds once), but without the branch compilers emit for unsigned conversion, which
// mispredicts on keys with the top bit set half the time.
inline double ToDouble(uint64_t v) {
  return static_cast<double>(static_cast<int64_t>(v >> 32)) * 4294967296.0 +
         static_cast<double>(static_cast<int64_t>(v & 0xffffffffu));
}

// A logarithmic bucket of d: its bit width, then the 4 bits after its leading one (like a
// tiny float). Monotone non-decreasing; at most (64 << 4) | 15.
inline constexpr uint32_t kLogBucketBits = 4;
inline constexpr size_t kNumLogBuckets = size_t{65} << kLogBucketBits;
inline size_t LogBucket(uint64_t d) {
  const int lz = __builtin_clzll(d | 1);
  const uint64_t mantissa = ((d << lz) << 1) >> (64 - kLogBucketBits);
  return (static_cast<size_t>(64 - lz) << kLogBucketBits) | mantissa;
}

inline uint32_t ClampLeaf(double v, double max_leaf) {
  v = v > 0.0 ? v : 0.0;
  v = v < max_leaf ? v : max_leaf;
  return static_cast<uint32_t>(v);
}

inline size_t Rep::KnotBucket(uint64_t x) const {
  const uint64_t d = Above(x, knot_x[0]);
  if (knot_log_buckets) return LogBucket(d);
  const size_t last_bucket = knot_table.size() - 2;
  const size_t b = d >> knot_shift;
  return b < last_bucket ? b : last_bucket;
}

inline uint32_t Rep::SplineSegment(uint64_t x) const {
  // Index of the last knot <= x (0 if none), at most the second-to-last knot. KnotBucket is
  // monotone, so knots in buckets below x's are < x and knots in buckets above are > x: the
  // answer lies in [lo, hi) = [table[b] - 1, table[b + 1]) (from 0 when table[b] = 0; no x
  // has a lower bucket than knot 0, so the range is never empty), and knot lo <= x unless
  // lo = 0. hi - lo <= fullest bucket + 1 <= 2 * knot_step, so adding each power of two from
  // knot_step down whenever the knot there is still <= x reaches the answer, in a fixed
  // number of branch-free steps.
  const uint32_t b = static_cast<uint32_t>(KnotBucket(x));
  const uint32_t lo = knot_table[b] > 0 ? knot_table[b] - 1 : 0;
  const uint32_t hi = knot_table[b + 1];
  uint32_t s = lo;
  for (uint32_t step = knot_step; step > 0; step >>= 1) {
    const uint32_t probe = s + step;
    const uint64_t knot = knot_x[probe < hi ? probe : hi - 1];
    s = ((probe < hi) & (knot <= x)) ? probe : s;
  }
  const uint32_t last_segment = static_cast<uint32_t>(knot_x.size() - 2);
  return s < last_segment ? s : last_segment;
}

inline uint32_t Rep::RouteInSegment(uint32_t s, uint64_t x) const {
  double v = knot_y[s].y + knot_y[s].slope * ToDouble(Above(x, knot_x[s]));
  // Rounding could overshoot the next knot by an ulp; capping keeps segments in order.
  const double next = knot_y[s + 1].y;
  v = v < next ? v : next;
  return ClampLeaf(v, max_leaf);
}

inline uint32_t Rep::Route(uint64_t x) const {
  switch (root_kind) {
    case RmiRootKind::kLinearSpline:
      return RouteInSegment(SplineSegment(x), x);
    case RmiRootKind::kRadix: {
      const uint64_t v = Above(x, root_min) >> radix_shift;
      return v < num_leaves - 1 ? static_cast<uint32_t>(v) : num_leaves - 1;
    }
    case RmiRootKind::kLinear:
    default:
      return ClampLeaf(root_slope * ToDouble(Above(x, root_min)) + root_intercept, max_leaf);
  }
}

// q(x) of the Leaf comment: the leaf model's offset, in [0, end - begin].
inline int64_t LeafOffset(const Leaf& leaf, uint64_t x) {
  double v = leaf.slope * ToDouble(Above(x, leaf.base));
  const double size = static_cast<double>(leaf.end - leaf.begin);
  v = v < size ? v : size;
  return static_cast<int64_t>(v);
}

inline int64_t ClampOffset(int64_t v, int64_t size) {
  v = v > 0 ? v : 0;
  return v < size ? v : size;
}

inline SearchBound LeafBound(const Leaf& leaf, uint64_t x) {
  const int64_t q = LeafOffset(leaf, x);
  const int64_t size = leaf.end - leaf.begin;
  const int64_t lo = ClampOffset(q + leaf.min_err, size);
  const int64_t hi = ClampOffset(q + leaf.max_err + 1, size);
  return SearchBound{leaf.begin + static_cast<uint64_t>(lo),
                     leaf.begin + static_cast<uint64_t>(hi)};
}

// Position estimate relative to begin: the middle of the error range, inside the bound.
inline int64_t LeafEstimate(const Leaf& leaf, int64_t q) {
  const int64_t size = leaf.end - leaf.begin;
  const int64_t lo = ClampOffset(q + leaf.min_err, size);
  const int64_t hi = ClampOffset(q + leaf.max_err + 1, size);
  int64_t mid = q + leaf.min_err + (static_cast<int64_t>(leaf.max_err) - leaf.min_err) / 2;
  mid = mid > lo ? mid : lo;
  return mid < hi ? mid : hi;
}

// Serialized sizes (see the layout in rmi.cc).
inline constexpr size_t kHeaderBytes = 32;
inline constexpr size_t kLeafBytes = 28;
inline constexpr size_t kChecksumBytes = 4;
inline constexpr size_t kKnotBytes = 16;
size_t RootBytes(RmiRootKind kind, size_t num_knots);
size_t EncodedBytes(RmiRootKind kind, size_t num_knots, size_t num_leaves);

// Sets knot_y[i].slope, knot_shift and knot_table from the knots (the serialized form stores
// only the knots). REQUIRES: at least two knots, x strictly increasing.
void FinishKnots(Rep* rep);

// Cost model behind the automatic choices: a rough estimate of one lookup's nanoseconds
// (root evaluation, leaf fetch by cache level, and a binary search of the window).
double EstimateLookupNanos(RmiRootKind kind, size_t num_knots, size_t num_leaves,
                           double mean_log2_window);

// Recomputes the stats that follow from the leaves (windows, sizes, cost estimate).
void FillDerivedStats(Rep* rep);

}  // namespace learnkv::rmi_internal

#endif  // LEARNKV_LEARNED_RMI_INTERNAL_H_
