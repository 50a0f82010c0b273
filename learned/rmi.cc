// RMI lookup and serialization (training is in rmi_builder.cc).
//
// Serialized layout, little-endian, fixed width (what EncodeTo writes and DecodeFrom checks):
//
//   offset   size  field
//   0        1     magic 'R' (0x52)
//   1        1     format version (1)
//   2        1     root kind (RmiRootKind)
//   3        1     reserved, 0
//   4        4     num_leaves N >= 1
//   8        8     num_keys n <= RmiBuilder::kMaxKeys
//   16       8     mean_abs_error (f64)
//   24       8     max_abs_error
//   32       R     root parameters:
//                    kLinear        root_min u64, slope f64, intercept f64     R = 24
//                    kLinearSpline  K u32, then K x {x u64, y f64}             R = 4 + 16 K
//                    kRadix         root_min u64, shift u8                     R = 9
//   32+R     28 N  leaves, each {base u64, slope f64, min_err i32, max_err i32, begin u32}
//   size-4   4     MaskChecksum(Checksum32(bytes [0, size-4)))
//
// A leaf's end is the next leaf's begin (n for the last); spline segment slopes are recomputed
// from the knots, with the same code on both sides, so nothing derivable is stored twice.
#include "learned/rmi.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "learned/rmi_internal.h"
#include "util/checksum.h"
#include "util/coding.h"

namespace learnkv {

using rmi_internal::Leaf;
using rmi_internal::Rep;

namespace {

constexpr uint8_t kMagic = 0x52;  // 'R'
constexpr uint8_t kFormatVersion = 1;

void PutDouble(std::string* dst, double v) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof(bits));
  PutFixed64(dst, bits);
}

double DecodeDouble(const char* p) {
  const uint64_t bits = DecodeFixed64(p);
  double v;
  memcpy(&v, &bits, sizeof(v));
  return v;
}

Status Corrupt(const std::string& what, size_t offset) {
  return Status::Corruption("rmi: " + what, "at byte offset " + std::to_string(offset));
}

bool FiniteNonNegative(double v) { return std::isfinite(v) && v >= 0.0; }

}  // namespace

namespace rmi_internal {

size_t RootBytes(RmiRootKind kind, size_t num_knots) {
  switch (kind) {
    case RmiRootKind::kLinearSpline:
      return 4 + kKnotBytes * num_knots;
    case RmiRootKind::kRadix:
      return 9;
    case RmiRootKind::kLinear:
    default:
      return 24;
  }
}

size_t EncodedBytes(RmiRootKind kind, size_t num_knots, size_t num_leaves) {
  return kHeaderBytes + RootBytes(kind, num_knots) + kLeafBytes * num_leaves + kChecksumBytes;
}

void FinishKnots(Rep* rep) {
  const size_t k = rep->knot_x.size();
  for (size_t i = 0; i + 1 < k; ++i) {
    const double dy = rep->knot_y[i + 1].y - rep->knot_y[i].y;
    const double dx = static_cast<double>(rep->knot_x[i + 1] - rep->knot_x[i]);
    rep->knot_y[i].slope = dy / dx;  // dx >= 1 and 0 <= dy <= 2^32: finite, >= 0
  }
  if (k > 0) rep->knot_y[k - 1].slope = 0;

  // Linear buckets, about four per knot, so that smooth data has at most a knot or two per
  // bucket; logarithmic buckets when they leave fewer knots in the fullest bucket (skewed
  // keys, where most knots sit in the first linear bucket).
  uint32_t bits = 2;
  while ((size_t{1} << bits) < 4 * k && bits < 14) ++bits;
  const uint64_t buckets = uint64_t{1} << bits;
  const uint64_t range = rep->knot_x[k - 1] - rep->knot_x[0];
  uint32_t shift = 0;
  while ((range >> shift) >= buckets) ++shift;  // ends by 63: range >> 63 <= 1 < buckets
  rep->knot_shift = shift;
  auto build = [rep, k](size_t num_buckets, bool log_buckets) {
    rep->knot_log_buckets = log_buckets;
    rep->knot_table.assign(num_buckets + 1, static_cast<uint32_t>(k));
    rep->knot_table[0] = 0;  // entries 1..: filled below; knots beyond stay k
    size_t bucket = 1;
    for (size_t i = 0; i < k; ++i) {
      // Every bucket b with bucket(knot i - 1) < b <= bucket(knot i) has i knots below it.
      const size_t b = rep->KnotBucket(rep->knot_x[i]);
      while (bucket <= b) rep->knot_table[bucket++] = static_cast<uint32_t>(i);
    }
    uint32_t fullest = 0;
    for (size_t b = 0; b < num_buckets; ++b) {
      fullest = std::max(fullest, rep->knot_table[b + 1] - rep->knot_table[b]);
    }
    return fullest;
  };
  const uint32_t log_fullest = build(kNumLogBuckets, true);
  uint32_t fullest = build(buckets, false);
  if (log_fullest < fullest) fullest = build(kNumLogBuckets, true);
  rep->knot_step = 1;
  while (rep->knot_step * 2 <= fullest) rep->knot_step *= 2;
}

double EstimateLookupNanos(RmiRootKind kind, size_t num_knots, size_t num_leaves,
                           double mean_log2_window) {
  // Rough figures measured on a 2-core x86 VM with 10M keys: the root costs ~1 ns (radix),
  // ~3 ns (linear), ~10 ns (spline, bucket table plus a few search steps), more once the knots
  // outgrow L1; the leaf fetch depends on where the leaf array fits; each halving of the
  // window in the last-mile search is a likely cache miss, ~15 ns.
  double root = 3.0;
  if (kind == RmiRootKind::kRadix) root = 1.0;
  if (kind == RmiRootKind::kLinearSpline) {
    const double knots = static_cast<double>(num_knots > 1 ? num_knots : 2);
    root = 6.0 + 0.5 * std::log2(knots) + (knots * 32 > 32 * 1024 ? 6.0 : 0.0);
  }
  const double leaf_bytes = static_cast<double>(num_leaves) * sizeof(Leaf);
  const double leaf = leaf_bytes <= 32 * 1024 ? 1.0 : (leaf_bytes <= 1024 * 1024 ? 4.0 : 12.0);
  return root + leaf + 15.0 * mean_log2_window;
}

void FillDerivedStats(Rep* rep) {
  RmiStats& s = rep->stats;
  s.num_keys = rep->num_keys;
  s.num_leaves = rep->num_leaves;
  s.root_kind = rep->root_kind;
  s.num_knots = static_cast<uint32_t>(rep->knot_x.size());
  s.model_bytes = EncodedBytes(rep->root_kind, rep->knot_x.size(), rep->num_leaves);
  s.max_window = 0;
  double sum_window = 0, sum_log2 = 0;
  for (const Leaf& leaf : rep->leaves) {
    const uint64_t size = leaf.end - leaf.begin;
    if (size == 0) continue;
    const uint64_t width =
        static_cast<uint64_t>(static_cast<int64_t>(leaf.max_err) - leaf.min_err + 1);
    const uint64_t window = width < size ? width : size;
    if (window > s.max_window) s.max_window = window;
    sum_window += static_cast<double>(size) * static_cast<double>(window);
    sum_log2 += static_cast<double>(size) * std::log2(static_cast<double>(window) + 1.0);
  }
  const double n = rep->num_keys > 0 ? static_cast<double>(rep->num_keys) : 1.0;
  s.mean_window = sum_window / n;
  s.mean_log2_window = sum_log2 / n;
  s.est_lookup_nanos =
      EstimateLookupNanos(rep->root_kind, rep->knot_x.size(), rep->num_leaves, s.mean_log2_window);
}

}  // namespace rmi_internal

const char* RmiRootKindName(RmiRootKind kind) {
  switch (kind) {
    case RmiRootKind::kLinear:
      return "linear";
    case RmiRootKind::kLinearSpline:
      return "linear_spline";
    case RmiRootKind::kRadix:
      return "radix";
  }
  return "unknown";
}

Rmi::Rmi(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
Rmi::~Rmi() = default;

// Why Lookup(x) = [lo, hi) satisfies lo <= p <= u <= hi (p, u: lower/upper bound of x; rmi.h).
//
// Route is monotone (rmi_internal.h), and training assigns each key to Route(key), so leaf j
// holds exactly positions [B_j, B_{j+1}) = [begin, end), and B is non-decreasing. Let j =
// Route(x). A key at a position < B_j routes below j, so it is < x (a key >= x would route to
// >= j): hence p >= B_j. A key at a position >= B_{j+1} routes above j, so it is > x: hence
// u <= B_{j+1}. Both p and u therefore lie in [B_j, B_{j+1}], which is where lo and hi are
// clamped to; an empty leaf (B_j = B_{j+1}) gives lo = p = u = hi.
//
// Inside a non-empty leaf, q (LeafOffset) is monotone in x, and for each of its keys x_i,
// min_err <= (i - B_j) - q(x_i) <= max_err, computed at training with this same q.
//  - lo <= p: if p < B_{j+1}, then x <= x_p, so q(x) <= q(x_p) and
//    B_j + q(x) + min_err <= B_j + q(x_p) + (p - B_j - q(x_p)) = p; clamping to [B_j, B_{j+1}]
//    keeps lo <= p because p is in that range. If p = B_{j+1}, the clamp alone gives lo <= p.
//  - u <= hi: if u > B_j, then x_{u-1} <= x, so q(x) >= q(x_{u-1}) and
//    B_j + q(x) + max_err + 1 >= B_j + q(x_{u-1}) + (u - 1 - B_j - q(x_{u-1})) + 1 = u; the
//    clamp keeps hi >= u. If u = B_j, the clamp alone gives hi >= u.
// This covers keys below the leaf's first key or above its last one, and keys routed to empty
// leaves, with no special case. It needs Route and q to be evaluated identically at training
// and lookup, which is why both call the same inline functions (and why learned/ is built
// with -ffp-contract=off). A corrupt-but-validated model may give wrong bounds, but never
// bounds outside [0, n].
SearchBound Rmi::Lookup(uint64_t x) const {
  const Rep& r = *rep_;
  return rmi_internal::LeafBound(r.leaves[r.Route(x)], x);
}

ApproxPos Rmi::Predict(uint64_t x) const {
  const Rep& r = *rep_;
  const Leaf& leaf = r.leaves[r.Route(x)];
  ApproxPos result;
  result.bound = rmi_internal::LeafBound(leaf, x);
  const int64_t q = rmi_internal::LeafOffset(leaf, x);
  result.pos = leaf.begin + static_cast<uint64_t>(rmi_internal::LeafEstimate(leaf, q));
  return result;
}

uint64_t Rmi::num_keys() const { return rep_->num_keys; }
const RmiStats& Rmi::stats() const { return rep_->stats; }

size_t Rmi::ApproximateMemoryUsage() const {
  return sizeof(*this) + sizeof(Rep) + rep_->leaves.capacity() * sizeof(Leaf) +
         rep_->knot_x.capacity() * sizeof(uint64_t) +
         rep_->knot_y.capacity() * sizeof(rmi_internal::KnotY) +
         rep_->knot_table.capacity() * sizeof(uint32_t);
}

void Rmi::EncodeTo(std::string* dst) const {
  const Rep& r = *rep_;
  const size_t start = dst->size();
  dst->push_back(static_cast<char>(kMagic));
  dst->push_back(static_cast<char>(kFormatVersion));
  dst->push_back(static_cast<char>(r.root_kind));
  dst->push_back(0);
  PutFixed32(dst, r.num_leaves);
  PutFixed64(dst, r.num_keys);
  PutDouble(dst, r.stats.mean_abs_error);
  PutFixed64(dst, r.stats.max_abs_error);
  switch (r.root_kind) {
    case RmiRootKind::kLinear:
      PutFixed64(dst, r.root_min);
      PutDouble(dst, r.root_slope);
      PutDouble(dst, r.root_intercept);
      break;
    case RmiRootKind::kLinearSpline:
      PutFixed32(dst, static_cast<uint32_t>(r.knot_x.size()));
      for (size_t i = 0; i < r.knot_x.size(); ++i) {
        PutFixed64(dst, r.knot_x[i]);
        PutDouble(dst, r.knot_y[i].y);
      }
      break;
    case RmiRootKind::kRadix:
      PutFixed64(dst, r.root_min);
      dst->push_back(static_cast<char>(r.radix_shift));
      break;
  }
  for (const Leaf& leaf : r.leaves) {
    PutFixed64(dst, leaf.base);
    PutDouble(dst, leaf.slope);
    PutFixed32(dst, static_cast<uint32_t>(leaf.min_err));
    PutFixed32(dst, static_cast<uint32_t>(leaf.max_err));
    PutFixed32(dst, leaf.begin);
  }
  const uint32_t crc = Checksum32(dst->data() + start, dst->size() - start);
  PutFixed32(dst, MaskChecksum(crc));
}

Status Rmi::DecodeFrom(const Slice& input, std::unique_ptr<Rmi>* result) {
  using rmi_internal::kChecksumBytes;
  using rmi_internal::kHeaderBytes;
  using rmi_internal::kKnotBytes;
  using rmi_internal::kLeafBytes;
  const char* p = input.data();
  const size_t size = input.size();
  if (size < kHeaderBytes + kChecksumBytes) {
    return Corrupt("truncated model: " + std::to_string(size) + " bytes, need at least " +
                       std::to_string(kHeaderBytes + kChecksumBytes),
                   size);
  }
  if (static_cast<uint8_t>(p[0]) != kMagic) return Corrupt("bad magic byte", 0);
  if (static_cast<uint8_t>(p[1]) != kFormatVersion) {
    return Corrupt("unknown format version " + std::to_string(static_cast<uint8_t>(p[1])), 1);
  }
  const uint32_t stored = UnmaskChecksum(DecodeFixed32(p + size - kChecksumBytes));
  if (stored != Checksum32(p, size - kChecksumBytes)) {
    return Corrupt("checksum mismatch", size - kChecksumBytes);
  }

  auto rep = std::make_unique<Rep>();
  const uint8_t kind = static_cast<uint8_t>(p[2]);
  if (kind > static_cast<uint8_t>(RmiRootKind::kRadix)) {
    return Corrupt("unknown root kind " + std::to_string(kind), 2);
  }
  rep->root_kind = static_cast<RmiRootKind>(kind);
  if (p[3] != 0) return Corrupt("reserved byte is not zero", 3);
  rep->num_leaves = DecodeFixed32(p + 4);
  if (rep->num_leaves == 0) return Corrupt("num_leaves is 0", 4);
  rep->max_leaf = static_cast<double>(rep->num_leaves - 1);
  rep->num_keys = DecodeFixed64(p + 8);
  const uint64_t n = rep->num_keys;
  if (n > RmiBuilder::kMaxKeys) return Corrupt("num_keys " + std::to_string(n) + " too large", 8);
  rep->stats.mean_abs_error = DecodeDouble(p + 16);
  if (!FiniteNonNegative(rep->stats.mean_abs_error) ||
      rep->stats.mean_abs_error > static_cast<double>(n)) {
    return Corrupt("mean_abs_error out of range", 16);
  }
  rep->stats.max_abs_error = DecodeFixed64(p + 24);
  if (rep->stats.max_abs_error > n) return Corrupt("max_abs_error exceeds num_keys", 24);

  // Sizes, computed in 64 bits: num_leaves and the knot count are at most 2^32 - 1, so no sum
  // below can overflow.
  size_t pos = kHeaderBytes;
  uint64_t num_knots = 0;
  if (rep->root_kind == RmiRootKind::kLinearSpline) {
    if (size - kChecksumBytes < pos + 4) return Corrupt("truncated knot count", pos);
    num_knots = DecodeFixed32(p + pos);
    if (num_knots < 2) return Corrupt("spline root has fewer than 2 knots", pos);
  }
  const uint64_t expected = uint64_t{kHeaderBytes} +
                            rmi_internal::RootBytes(rep->root_kind, num_knots) +
                            uint64_t{kLeafBytes} * rep->num_leaves + kChecksumBytes;
  if (expected != size) {
    return Corrupt("size mismatch: header implies " + std::to_string(expected) +
                       " bytes, model has " + std::to_string(size),
                   4);
  }

  switch (rep->root_kind) {
    case RmiRootKind::kLinear:
      rep->root_min = DecodeFixed64(p + pos);
      rep->root_slope = DecodeDouble(p + pos + 8);
      rep->root_intercept = DecodeDouble(p + pos + 16);
      if (!FiniteNonNegative(rep->root_slope)) return Corrupt("bad linear root slope", pos + 8);
      if (!std::isfinite(rep->root_intercept)) {
        return Corrupt("bad linear root intercept", pos + 16);
      }
      pos += 24;
      break;
    case RmiRootKind::kLinearSpline: {
      pos += 4;
      rep->knot_x.resize(num_knots);
      rep->knot_y.resize(num_knots);
      const double max_y = static_cast<double>(rep->num_leaves);
      for (uint64_t i = 0; i < num_knots; ++i, pos += kKnotBytes) {
        rep->knot_x[i] = DecodeFixed64(p + pos);
        rep->knot_y[i].y = DecodeDouble(p + pos + 8);
        if (i > 0 && rep->knot_x[i] <= rep->knot_x[i - 1]) {
          return Corrupt("spline knot " + std::to_string(i) + " x not increasing", pos);
        }
        const double y = rep->knot_y[i].y;
        if (!FiniteNonNegative(y) || y > max_y || (i > 0 && y < rep->knot_y[i - 1].y)) {
          return Corrupt("spline knot " + std::to_string(i) + " y out of order or range", pos + 8);
        }
      }
      rmi_internal::FinishKnots(rep.get());
      break;
    }
    case RmiRootKind::kRadix:
      rep->root_min = DecodeFixed64(p + pos);
      rep->radix_shift = static_cast<uint8_t>(p[pos + 8]);
      if (rep->radix_shift > 63) return Corrupt("radix shift above 63", pos + 8);
      pos += 9;
      break;
  }

  rep->leaves.resize(rep->num_leaves);
  for (uint32_t j = 0; j < rep->num_leaves; ++j, pos += kLeafBytes) {
    Leaf& leaf = rep->leaves[j];
    leaf.base = DecodeFixed64(p + pos);
    leaf.slope = DecodeDouble(p + pos + 8);
    leaf.min_err = static_cast<int32_t>(DecodeFixed32(p + pos + 16));
    leaf.max_err = static_cast<int32_t>(DecodeFixed32(p + pos + 20));
    leaf.begin = DecodeFixed32(p + pos + 24);
    if (!FiniteNonNegative(leaf.slope)) {
      return Corrupt("leaf " + std::to_string(j) + " slope not finite and >= 0", pos + 8);
    }
    if (leaf.begin > n || (j == 0 && leaf.begin != 0) ||
        (j > 0 && leaf.begin < rep->leaves[j - 1].begin)) {
      return Corrupt("leaf " + std::to_string(j) + " first position out of order or range",
                     pos + 24);
    }
    if (j > 0) rep->leaves[j - 1].end = leaf.begin;
  }
  rep->leaves.back().end = static_cast<uint32_t>(n);
  pos = kHeaderBytes + rmi_internal::RootBytes(rep->root_kind, num_knots);
  for (uint32_t j = 0; j < rep->num_leaves; ++j, pos += kLeafBytes) {
    const Leaf& leaf = rep->leaves[j];
    const int64_t leaf_size = leaf.end - leaf.begin;
    if (leaf.min_err > leaf.max_err || leaf.min_err < -leaf_size || leaf.max_err > leaf_size) {
      return Corrupt("leaf " + std::to_string(j) + " error bounds inconsistent", pos + 16);
    }
  }

  rmi_internal::FillDerivedStats(rep.get());
  result->reset(new Rmi(std::move(rep)));
  return Status::OK();
}

}  // namespace learnkv
