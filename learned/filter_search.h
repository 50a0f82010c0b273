// The search for a table's learned filter, which FilterBuilder::Finish (filter_policy.h) runs
// for kAuto and kLearned: which classifier, trained on what, with which region layout — and
// whether any can beat the classic filter at all. It runs in two stages, so that a table on
// which learning cannot pay costs a small fraction of a full search:
//
//  1. Screen. Every candidate classifier — n-gram models at up to two sizes, each with int8
//     and int4 weights, and density grids at five cell sizes and three class widths — is
//     trained on a sample: the n-gram models on FilterOptions::screen_keys keys spread evenly
//     over the table and as many fit negatives, the grids on every key (a grid is counts per
//     cell, linear in the keys). Each is scored on screen_keys keys and the calibration
//     negatives, put to the FPR + FNR rule, and its regions planned from those scores with the
//     filters sized for the whole table, re-planned for a lower target while its expected
//     rate on the held-out negatives plus one standard error misses the target: an estimate
//     of its size. For kAuto, if no estimate is below the classic filter's size by
//     min_learned_saving, the search ends there.
//  2. Full. The three candidates with the smallest estimates are trained again at full size
//     where the screen's sample was smaller (n-gram models on up to
//     NgramTrainOptions::max_samples_per_class keys and fit negatives), score every key, are
//     put to the FPR + FNR rule on every key, and re-planned. Their exact encoded sizes are
//     computed without building them (LearnedFilter::PredictBytes), and a layout whose
//     expected rate on the held-out negatives lies more than two standard errors above the
//     target (a build would all but surely be measured to miss) is re-planned for a lower
//     target before anything is built. Then, smallest first, a candidate is built and its
//     rate measured on the held-out negatives; the first that meets the target (measured rate
//     plus one standard error) is the result; one that misses is re-planned for a
//     proportionally lower target (three times at most) and queued again. For kAuto, a
//     candidate that cannot beat the classic filter is never built.
//
// The screen decides only whether to go on and which candidates to take further; every size
// and rate the choice rests on comes from the full stage. Its estimates came out up to about
// 2% below the full stage's sizes on the data sets tried, so it errs towards searching in
// full; a table screened out would have gained less than min_learned_saving, or little more. With
// screen_keys 0 every candidate is trained and scored in full, and the three smallest estimates go
// on, as before the screen existed.
//
// What it costs is measured by bench/filter_bench.cc (FilterBuild) and shown in
// docs/filters.md.
//
// Thread safety: single-threaded; the inputs must not change during a search.
#ifndef LEARNKV_LEARNED_FILTER_SEARCH_H_
#define LEARNKV_LEARNED_FILTER_SEARCH_H_

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "learned/filter_learned.h"
#include "learned/filter_options.h"
#include "learnkv/slice.h"

namespace learnkv {

// The keys of a table being built, as FilterBuilder keeps them for training: in order, each
// as the length of the prefix it shares with the one before and the rest (varint32 shared |
// varint32 unshared | unshared bytes), read front to back with a Cursor. Sorted keys share
// much of their bytes: 97-byte URL keys take about a quarter of their size, 8-byte IDs about
// 40%, random keys about 70%.
class PackedKeys {
 public:
  // REQUIRES: key > the key added before (bytewise).
  void Add(const Slice& key);
  size_t size() const { return count_; }
  size_t bytes() const { return data_.size(); }
  Slice first() const { return Slice(first_); }
  Slice last() const { return Slice(last_); }
  void Clear();

  // Reads the keys in order. The slice key() returns lives until the next Next().
  class Cursor {
   public:
    explicit Cursor(const PackedKeys& keys) : keys_(keys) {}
    // Advances to the next key; false after the last.
    bool Next();
    Slice key() const { return Slice(key_); }

   private:
    const PackedKeys& keys_;
    size_t pos_ = 0;
    std::string key_;
  };

 private:
  std::string data_;
  std::string first_, last_;
  size_t count_ = 0;
};

// Held-out negatives as distinct keys with their counts: a missed key asked for often weighs
// more, and its repeats are one observation, not many, when judging how sure a rate is.
struct Heldout {
  std::vector<Slice> keys;
  std::vector<uint32_t> counts;
  uint64_t total = 0;
  double sum_sq_counts = 0;

  void Set(std::vector<Slice> samples);
  bool empty() const { return total == 0; }
};

// The negatives of a table build, split at random into fit, calibration and held-out parts.
struct NegativeSplit {
  std::vector<Slice> fit, calibration;
  Heldout heldout;
};

// The false-positive rate over the held-out lookups and its standard error (distinct keys as
// the sampling units; at least one in the effective sample size counts as a hit for the error,
// so that a clean sheet on few keys is not taken as certainty). rate_of(key) is the chance
// that the filter passes key: its answer (0 or 1) for a built filter, or an expected rate.
double HeldoutFpr(const Heldout& h, const auto& rate_of, double* se = nullptr) {
  if (h.empty()) return 0;
  double hits = 0;
  for (size_t i = 0; i < h.keys.size(); ++i) hits += rate_of(i) * h.counts[i];
  const double m = static_cast<double>(h.total);
  const double fpr = hits / m;
  if (se != nullptr) {
    const double effective = m * m / h.sum_sq_counts;
    const double p = std::max(fpr, 1 / effective);
    *se = std::sqrt(p * (1 - p) / effective);
  }
  return fpr;
}

struct LearnedSearchResult {
  bool found = false;  // a learned filter meeting the target (below limit_bytes for kAuto)
  LearnedFilter filter;
  std::string payload;  // filter's encoding
  double measured_fpr = 1;
  double model_fpr = 1, model_fnr = 0;  // its classifier at its best single threshold
  size_t model_bytes = 0;
  // Without one: the smallest learned layout that met the target in expectation, though not
  // below limit_bytes (0 if none did), and why there is none.
  size_t planned_bytes = 0;
  std::string why_not;
};

// Searches for the smallest learned filter over the table's distinct keys (hashes[i] is
// FilterKeyHash of the i-th key) that meets target on the held-out negatives. For kAuto
// (options.type), only a filter of fewer than limit_bytes is of use: the search stops as soon
// as none can be. classic_bytes bounds what a model may take (half of it).
// REQUIRES: keys non-empty, hashes.size() == keys.size(); split.fit, split.calibration and
// split.heldout non-empty.
LearnedSearchResult SearchLearnedFilter(const FilterOptions& options, double target,
                                        const PackedKeys& keys, const std::vector<uint64_t>& hashes,
                                        const NegativeSplit& split, size_t classic_bytes,
                                        size_t limit_bytes);

}  // namespace learnkv

#endif  // LEARNKV_LEARNED_FILTER_SEARCH_H_
