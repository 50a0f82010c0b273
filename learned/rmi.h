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
//   let p = the number of keys < x (the lower_bound position of x). Then lo <= p <= hi, so
//   std::lower_bound over positions [lo, hi) returns p (hi when every key there is < x). In
//   particular a present key's first occurrence lies in [lo, hi); runs of equal mapped keys
//   are covered. Callers whose real keys are longer than their mapped value (byte strings)
//   compare real keys inside the window; the mapping is monotone (key_mapping.h), so the
//   window still holds the lower_bound of the real key.
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
  // a size/error trade-off. Non-zero overrides, for experiments.
  uint32_t num_leaves = 0;
  // Root model. Default: chosen automatically (the candidate with the smallest mean error).
  bool auto_root = true;
  RmiRootKind root_kind = RmiRootKind::kLinearSpline;
  // Upper bound on model bytes per key for the automatic leaf count. Default 0.05.
  double max_bytes_per_key = 0.05;
};

// Summary of how well the model fits its training keys.
struct RmiStats {
  uint64_t num_keys = 0;
  uint32_t num_leaves = 0;
  RmiRootKind root_kind = RmiRootKind::kLinear;
  uint64_t max_window = 0;    // largest hi - lo over all leaves
  double mean_window = 0;     // mean over keys of the window size of their leaf
  double mean_abs_error = 0;  // mean over keys of |position - prediction|
  uint64_t max_abs_error = 0;
  uint64_t model_bytes = 0;   // size of the serialized model
  uint64_t build_micros = 0;  // training time
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
  struct Rep;
  explicit Rmi(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

class RmiBuilder {
 public:
  explicit RmiBuilder(const RmiOptions& options = RmiOptions());
  RmiBuilder(const RmiBuilder&) = delete;
  RmiBuilder& operator=(const RmiBuilder&) = delete;
  ~RmiBuilder();

  // REQUIRES: x >= every key added before. The key's position is the number of prior calls.
  void Add(uint64_t x);
  uint64_t num_keys() const { return keys_.size(); }

  // Trains the model on the keys added. Works for zero keys (every lookup gives {0, 0}).
  std::unique_ptr<Rmi> Finish();

 private:
  RmiOptions options_;
  std::vector<uint64_t> keys_;
};

}  // namespace learnkv

#endif  // LEARNKV_LEARNED_RMI_H_
