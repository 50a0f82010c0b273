// The per-table membership filter: FilterBuilder collects a table's user keys while the table
// is written and, at the end, builds the filter FilterOptions ask for — choosing, for kAuto,
// between the learned filter and the classic ones by what each measurably costs — and encodes
// it as the table's "learnkv.filter" block; Filter decodes that block for the reader.
//
// The choice (kAuto): every candidate is sized to meet target_fpr, then the smallest encoding
// wins.
//   classic: the blocked Bloom filter at the bits per key its false-positive model asks for,
//            and the binary fuse filter with ceil(log2(1 / target_fpr))-bit fingerprints;
//   learned: tried only with at least min_negatives negatives in the table's key range. They
//            are split at random into fit / calibration / held-out parts, and
//            SearchLearnedFilter (filter_search.h) looks for the smallest learned filter:
//            candidate classifiers (n-gram logistic regression at two sizes, each with int8
//            and int4 weights; density grids at several cell sizes and class widths) are
//            first screened on a sample of the keys (FilterOptions::screen_keys), which ends
//            the search cheaply where no learned filter can be small enough; the three most
//            promising are then trained on the fit part at full size, their score regions
//            planned on the calibration part (filter_learned.h) and sized exactly, and built
//            smallest first until one meets the target on the held-out part. A filter counts
//            as meeting the target when the measured rate plus one standard error does; one
//            that misses is re-planned for a proportionally lower target (up to three times),
//            then dropped. A classifier whose FPR + FNR, at its best single threshold on the
//            calibration negatives, is not below 1 (by more than its sampling noise) is never
//            used (Mitzenmacher 2018: such a model cannot help). The learned filter is kept if
//            it is smaller than the classic one by min_learned_saving (5%).
// The classic filter is built only when it is chosen (its size is known beforehand).
// The report records what was chosen, why, and the measured rates; TableBuilder stores it in
// the table properties.
//
// Thread safety: FilterBuilder is single-threaded. A decoded Filter is immutable; KeyMayMatch
// may be called concurrently.
#ifndef LEARNKV_LEARNED_FILTER_POLICY_H_
#define LEARNKV_LEARNED_FILTER_POLICY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "learned/filter_bloom.h"
#include "learned/filter_fuse.h"
#include "learned/filter_learned.h"
#include "learned/filter_options.h"
#include "learned/filter_search.h"
#include "learnkv/slice.h"
#include "learnkv/status.h"

namespace learnkv {

// What a filter block holds. Persistent: the kind byte of the block. Never renumber.
enum class FilterKind : uint8_t {
  kBloom = 1,
  kFuse = 2,
  kLearned = 3,
};
const char* FilterKindName(FilterKind kind);  // "bloom", "fuse", "learned"

// What FilterBuilder::Finish built and why.
struct FilterReport {
  std::string kind = "none";  // "none", "bloom", "fuse" or "learned"
  uint64_t num_keys = 0;      // distinct user keys in the filter
  uint64_t bytes = 0;         // the encoded filter block
  double bits_per_key = 0;    // 8 * bytes / num_keys
  double target_fpr = 0;
  // The chosen filter's false-positive rate on held-out negatives; without negatives, the
  // classic filter's analytic rate (then heldout_negatives == 0).
  double measured_fpr = 0;
  uint64_t heldout_negatives = 0;
  uint64_t negatives = 0;      // negatives sampled in the table's key range
  uint64_t classic_bytes = 0;  // the smaller classic filter
  // The smallest learned filter meeting the target (0: none). When it was not built, because
  // it could not beat the classic filter, its exact planned size, which met the target in
  // expectation on the held-out negatives.
  uint64_t learned_bytes = 0;
  uint64_t model_bytes = 0;  // of which its classifier
  double model_fpr = 0;      // that classifier at its best single threshold
  double model_fnr = 0;      //   (calibration negatives), see the choice rule
  std::string detail;        // the learned filter's layout, when one was built
  std::string reason;        // why this kind was chosen
  uint64_t build_micros = 0;
};

class FilterBuilder {
 public:
  explicit FilterBuilder(const FilterOptions& options);
  FilterBuilder(const FilterBuilder&) = delete;
  FilterBuilder& operator=(const FilterBuilder&) = delete;

  // Adds a user key. REQUIRES: keys in non-decreasing bytewise order (repeats are dropped, as
  // the versions of one user key in a table).
  void AddKey(const Slice& user_key);
  uint64_t num_keys() const { return hashes_.size(); }

  // Builds the filter, appends its block encoding to *block and describes it in *report.
  // Does nothing (report->kind "none") for FilterType::kNone. Call once.
  void Finish(std::string* block, FilterReport* report);

 private:
  const FilterOptions options_;
  bool keep_keys_;  // the learned filter needs the keys themselves
  std::vector<uint64_t> hashes_;
  PackedKeys keys_;  // when kept
  std::string last_key_;
};

// A decoded filter block.
class Filter {
 public:
  // Parses and validates a block written by FilterBuilder: version, kind, every field, and its
  // own checksum (always verified, whatever the table's verify_checksums). Corruption if
  // anything is wrong.
  static Status DecodeFrom(const Slice& block, std::unique_ptr<Filter>* result);

  Filter(const Filter&) = delete;
  Filter& operator=(const Filter&) = delete;

  // False only if user_key is certainly not a key of the filter's table.
  bool KeyMayMatch(const Slice& user_key) const;

  FilterKind kind() const { return kind_; }
  uint64_t num_keys() const { return num_keys_; }
  size_t MemoryUsage() const;
  const LearnedFilter* learned() const {
    return kind_ == FilterKind::kLearned ? &learned_ : nullptr;
  }
  std::string Describe() const;

 private:
  friend class FilterBuilder;
  Filter() = default;

  FilterKind kind_ = FilterKind::kFuse;
  uint64_t num_keys_ = 0;
  BloomFilter bloom_;
  FractionalFuseFilter fuse_;
  LearnedFilter learned_;
};

// Encodes a filter block around a filter's own encoding (FilterBuilder uses it; exposed for
// tests and the fuzzer).
void EncodeFilterBlock(FilterKind kind, uint64_t num_keys, const std::string& payload,
                       std::string* block);

}  // namespace learnkv

#endif  // LEARNKV_LEARNED_FILTER_POLICY_H_
