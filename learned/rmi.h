// A two-stage Recursive Model Index (Kraska et al., "The Case for Learned Index Structures",
// SIGMOD 2018) over a sorted sequence of mapped keys x_0 <= x_1 <= ... <= x_{n-1}: it predicts
// the position (ordinal) i of a key from its value.
//
// Stage 1 (root) routes a key to one of N leaves; it is monotone (linear, linear spline or
// radix), so larger keys never route to earlier leaves. Stage 2 is one linear model per leaf
// with a non-negative slope, its signed min/max training error, and the position of the leaf's
// first key.
//
// Guarantee of Lookup(x) = SearchBound{lo, hi}, for every uint64 x, present or absent:
//   let p = the number of keys < x (the lower_bound position of x) and u = the number of
//   keys <= x (its upper_bound). Then lo <= p <= u <= hi <= n, so std::lower_bound over
//   positions [lo, hi) returns p (hi when every key there is < x). In particular every
//   occurrence of a present key lies in [lo, hi): runs of equal mapped keys are covered
//   whole. Callers whose real keys are longer than their mapped value (byte strings) compare
//   real keys inside the window: by monotonicity (key_mapping.h) a real key k's lower_bound
//   lies in [p, u] for x = Map(k), so the window holds it even when k collides with others.
//
// Building is streaming and single-pass over the keys (RmiBuilder::Add ... Finish), in the
// same pass that writes a table; the builder keeps the mapped keys (8 bytes each) in memory.
// The number of leaves is chosen per table from the key count and a size/error trade-off
// unless RmiOptions::num_leaves overrides it.
//
// Thread safety: RmiBuilder is single-threaded. Rmi is immutable; const methods may be called
// concurrently.
#ifndef LEARNKV_LEARNED_RMI_H_
#define LEARNKV_LEARNED_RMI_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "learnkv/slice.h"
#include "learnkv/status.h"

namespace learnkv {

namespace rmi_internal {
struct Rep;  // learned/rmi_internal.h
}  // namespace rmi_internal

// Positions [lo, hi) that a search must examine; see the guarantee above.
struct SearchBound {
  uint64_t lo = 0;
  uint64_t hi = 0;
  uint64_t size() const { return hi - lo; }
};

// A prediction with its bound, for tools and statistics.
struct ApproxPos {
  uint64_t pos = 0;  // the model's estimate, clamped to [lo, hi]
  SearchBound bound;
};

// Persistent: stored in tables. Never renumber.
enum class RmiRootKind : uint8_t {
  kLinear = 0,
  kLinearSpline = 1,
  kRadix = 2,
};
const char* RmiRootKindName(RmiRootKind kind);

struct RmiOptions {
  // Number of leaf models. 0 (default): chosen automatically per table from the key count and
  // a size/error trade-off. Non-zero overrides, for experiments (capped at max(1, #keys)).
  uint32_t num_leaves = 0;
  // Root model. Default: chosen automatically, together with the leaf count, as the
  // candidate with the lowest estimated lookup cost (root evaluation plus a binary search of
  // the mean log2 window; see RmiStats). When false, root_kind is used.
  bool auto_root = true;
  RmiRootKind root_kind = RmiRootKind::kLinearSpline;
  // Upper bound on model bytes per key for the automatic choices (spline knots and leaf
  // count; a fixed num_leaves ignores it). Default 0.05.
  double max_bytes_per_key = 0.05;
};

// Summary of how well the model fits its training keys.
struct RmiStats {
  uint64_t num_keys = 0;
  uint32_t num_leaves = 0;
  RmiRootKind root_kind = RmiRootKind::kLinear;
  uint64_t max_window = 0;     // largest hi - lo over all leaves
  double mean_window = 0;      // mean over keys of the window size of their leaf
  double mean_abs_error = 0;   // |position - Predict().pos|, mean over every 8th key
  uint64_t max_abs_error = 0;  // bound on |position - Predict().pos|: half the widest window
  uint64_t model_bytes = 0;    // size of the serialized model
  uint64_t build_micros = 0;   // training time (0 for a decoded model)
  // Why this model was chosen: its mean over keys of log2(window + 1), the cost model's
  // lookup estimate from it (the lowest among the candidates), and how many (root kind, knot
  // count, leaf count) candidates were compared.
  double mean_log2_window = 0;
  double est_lookup_nanos = 0;
  uint32_t num_knots = 0;         // spline root knots (0 for other roots)
  uint32_t candidates_tried = 0;  // 0 for a decoded model
};

class Rmi {
 public:
  Rmi(const Rmi&) = delete;
  Rmi& operator=(const Rmi&) = delete;
  ~Rmi();

  SearchBound Lookup(uint64_t x) const;
  ApproxPos Predict(uint64_t x) const;

  uint64_t num_keys() const;
  const RmiStats& stats() const;
  // Bytes of memory held by the model (for learnkv.index-memory).
  size_t ApproximateMemoryUsage() const;

  // Versioned, checksummed serialization.
  void EncodeTo(std::string* dst) const;
  // Validates every field (version, checksum, counts, monotone root, bounds within [0, n]);
  // Corruption on any inconsistency. Never trusts bytes read from disk.
  static Status DecodeFrom(const Slice& input, std::unique_ptr<Rmi>* result);

 private:
  friend class RmiBuilder;
  explicit Rmi(std::unique_ptr<rmi_internal::Rep> rep);
  std::unique_ptr<rmi_internal::Rep> rep_;
};

class RmiBuilder {
 public:
  explicit RmiBuilder(const RmiOptions& options = RmiOptions());
  // Takes every key at once, without a copy. REQUIRES: keys sorted (non-decreasing) and
  // keys.size() < kMaxKeys; the position of keys[i] is i.
  RmiBuilder(const RmiOptions& options, std::vector<uint64_t>&& keys);
  RmiBuilder(const RmiBuilder&) = delete;
  RmiBuilder& operator=(const RmiBuilder&) = delete;
  ~RmiBuilder();

  // Positions are stored in 32 bits.
  static constexpr uint64_t kMaxKeys = (uint64_t{1} << 31) - 1;

  // REQUIRES: x >= every key added before; num_keys() < kMaxKeys. The key's position is the
  // number of prior calls.
  void Add(uint64_t x);
  uint64_t num_keys() const { return keys_.size(); }
  // Optional: room for n keys, when the caller can estimate the count (saves regrowth).
  void Reserve(uint64_t n) { keys_.reserve(n); }

  // Trains the model on the keys added. Works for zero keys (every lookup gives {0, 0}).
  // Training costs a few nanoseconds per key: candidates are compared on a sample of leaves,
  // then only the chosen model is trained on every key. Call once.
  std::unique_ptr<Rmi> Finish();

 private:
  RmiOptions options_;
  std::vector<uint64_t> keys_;
};

}  // namespace learnkv

#endif  // LEARNKV_LEARNED_RMI_H_
