// What a table's learned model got right and wrong, measured by walking every entry: the
// distribution of |position - prediction| (in powers of two), whether each entry lies inside
// the window the model promises (learned/rmi.h), whether keys are in order, and an evenly
// spaced sample of (mapped key, position, prediction) for plots. Shared by learnkv-sst and
// learnkv-demo, so both print the same histogram.
//
// Thread safety: ErrorHistogram and TableWalk are plain values. WalkTable only reads the table
// (TableReader is thread-safe) but is itself single-threaded.
#ifndef LEARNKV_TOOLS_MODEL_REPORT_H_
#define LEARNKV_TOOLS_MODEL_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "learnkv/status.h"
#include "sstable/table_reader.h"

namespace learnkv {

// Counts of non-negative errors in buckets {0}, {1}, [2, 4), [4, 8), ... [2^63, 2^64).
class ErrorHistogram {
 public:
  static constexpr int kNumBuckets = 65;

  void Add(uint64_t error);
  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0 : sum_ / static_cast<double>(count_); }
  uint64_t bucket(int b) const { return buckets_[b]; }

  // A header line, then one line per bucket from the first to the last non-empty one:
  //   [     4,      8)     1234  12.34%  95.10% ######
  // with the count, the percentage and the cumulative percentage. Empty if nothing was added.
  std::string ToString() const;

 private:
  uint64_t buckets_[kNumBuckets] = {};
  uint64_t count_ = 0;
  uint64_t max_ = 0;
  double sum_ = 0;
};

// One entry as the model sees it.
struct ModelSample {
  uint64_t mapped_key = 0;  // KeyMapper::Map of the user key
  uint64_t position = 0;    // the entry's ordinal in the table
  ApproxPos predicted;
};

struct TableWalk {
  uint64_t entries = 0;
  // Entries not strictly after their predecessor in internal-key order (or too short to be
  // internal keys).
  uint64_t order_violations = 0;
  // Entries outside the model's window [lo, hi); the RMI guarantees there are none.
  uint64_t bound_violations = 0;
  std::string first_violation;  // a description of the first violation of either kind
  ErrorHistogram errors;        // |position - predicted.pos|; empty without a model
  // Entries whose predicted record lies in their own data block: a lookup of the others reads
  // at least one more block (the main cost of a wide error, beyond the search itself).
  uint64_t same_block = 0;
  std::vector<ModelSample> samples;
};

// Iterates over every entry of `table` in order and fills *walk. Samples up to max_samples
// evenly spaced entries (learned tables only). Returns the iterator's error, if any; the
// violations it finds are reported in *walk, not as errors.
Status WalkTable(const TableReader& table, size_t max_samples, TableWalk* walk);

// The error histogram and the share of entries predicted into their own block, as
// learnkv-sst and learnkv-demo print them. Empty for a table without a model.
std::string ModelReport(const TableReader& table, const TableWalk& walk);

}  // namespace learnkv

#endif  // LEARNKV_TOOLS_MODEL_REPORT_H_
