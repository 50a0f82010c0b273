// Options of the per-table membership filter (TableOptions::filter), and the interface through
// which the engine hands a table build the keys it should learn to reject.
//
// Thread safety: FilterOptions is a plain value. A NegativeSampleSource is shared between
// concurrent table builds: Sample must be safe to call from several threads.
#ifndef LEARNKV_LEARNED_FILTER_OPTIONS_H_
#define LEARNKV_LEARNED_FILTER_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "learnkv/slice.h"

namespace learnkv {

// Which filter a new table gets. Not persistent (a table records what was built as
// filter_kind in its properties and in its filter block).
enum class FilterType : uint8_t {
  kNone = 0,     // no filter
  kBloom = 1,    // cache-local blocked Bloom filter (filter_bloom.h)
  kFuse = 2,     // binary fuse filter (filter_fuse.h)
  kAuto = 3,     // the smallest that meets target_fpr: the learned filter when negatives allow
                 // one and it is smaller, else the smaller classic filter
  kLearned = 4,  // the learned filter whenever a model beats chance (FPR + FNR < 1) on the
                 // negatives, even if larger; else as kAuto. For experiments.
};
const char* FilterTypeName(FilterType type);  // "none", "bloom", "fuse", "auto", "learned"

// Keys that are absent from a table being built but likely to be asked for: missed lookups
// sampled by the read path, keys of overlapping tables in neighbouring levels.
class NegativeSampleSource {
 public:
  virtual ~NegativeSampleSource() = default;
  // Appends to *out up to max_keys user keys in [smallest, largest] (bytewise, inclusive). They
  // may include keys of the table: the builder drops those.
  virtual void Sample(const Slice& smallest, const Slice& largest, size_t max_keys,
                      std::vector<std::string>* out) const = 0;
};

// A NegativeSampleSource over a fixed set of keys (tests, tools, benchmarks).
std::shared_ptr<const NegativeSampleSource> NewVectorNegativeSource(std::vector<std::string> keys);

struct FilterOptions {
  // Filter of new tables. Default kAuto.
  FilterType type = FilterType::kAuto;
  // False-positive rate every filter is sized for: the classic filters analytically, the
  // learned filter as measured on held-out negatives. (0, 1). Default 0.01.
  double target_fpr = 0.01;
  // Where a build gets its negatives. Default nullptr: no learned filter (classic only).
  std::shared_ptr<const NegativeSampleSource> negatives;
  // Fewest negatives inside a table's key range for a learned filter to be tried; with fewer,
  // the classic filter is used. Default 1000.
  size_t min_negatives = 1000;
  // Most negatives sampled per table. Default 100000.
  size_t max_negatives = 100000;
  // Keys sampled, evenly over the table, for the screen that decides whether a learned
  // filter can pay before any classifier is trained at full size (filter_search.h): the
  // n-gram candidates train on this many keys and fit negatives, and every candidate is sized
  // from its scores on this many keys. For kAuto, if none comes out smaller than the classic
  // filter by min_learned_saving, the table gets the classic filter at a fraction of a full
  // search's cost. 0: no screen (every candidate trained and scored in full). Default 8192.
  size_t screen_keys = 8192;
  // Share of the negatives held out to measure the false-positive rate the choice is based on
  // (the rest trains the classifier and calibrates its score regions). Default 0.3.
  double holdout_fraction = 0.3;
  // kAuto keeps a learned filter only if it is at least this much smaller than the classic one
  // (a learned probe costs more time: a model evaluation). Default 0.05.
  double min_learned_saving = 0.05;
  // Largest share of absent-key probes that may reach an n-gram classifier (about 40 ns for a
  // 25-byte key, against about 15 ns for a fuse filter probe): a learned filter with one gets
  // a front filter of at least log2(1 / share) bits, so that lookups of absent keys stay about
  // as fast as with the classic filter. Density-grid classifiers cost no more than a hash and
  // are exempt. 1 disables the rule. Default 0.125 (a front filter of at least 3 bits).
  double max_scored_share = 0.125;
};

}  // namespace learnkv

#endif  // LEARNKV_LEARNED_FILTER_OPTIONS_H_
