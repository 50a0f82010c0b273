// Level filters: what the engine gives each table build so that the table's membership filter
// fits the level it is written to (docs/filters.md).
//
//  * LookupMissSampler: per level, a bounded uniform sample of the user keys that point
//    lookups looked for in one of the level's tables and did not find there — the absent keys
//    a filter of that level is asked about. One lookup in about `interval` is examined (a
//    thread-local countdown: the others pay one decrement), and each level keeps a reservoir
//    of at most `capacity` keys (Vitter's algorithm R, "Random sampling with a reservoir", ACM
//    TOMS 1985: after n misses, each of them is in the sample with probability capacity / n).
//    Repeats are kept, so a key missed often weighs more, as it does in the workload.
//  * TableNegativeSource: the NegativeSampleSource of one flush or compaction output: the
//    sampled misses of its level and of the level above (whose misses go on to probe this
//    level), taken when the job starts, and keys of the next deeper level's tables in the
//    table's key range, which lookups reach only after passing this table. Those are read in
//    short runs next to keys of the table itself (an evenly spaced sample noted while the table
//    is written), so that they spread over the table's range as its keys do, without reading
//    the whole (about ten times larger) deeper range.
//  * LevelLoads and MonkeyLevelRate: the false-positive rate Monkey gives a level
//    (learned/filter_monkey.h) for the bits a uniform rate would take.
//  * OutputFilterPlan puts these together for one job: the table options of its outputs and a
//    fresh TableNegativeSource for each.
//
// Thread safety: LookupMissSampler is thread-safe: lookups record from any thread while jobs
// copy samples; the lock is taken only when a key enters a reservoir. A TableNegativeSource
// is fed (NoteKey) and sampled (Sample) by the one table build that owns it, on its thread.
// An OutputFilterPlan is immutable after construction.
#ifndef LEARNKV_ENGINE_LEVEL_FILTERS_H_
#define LEARNKV_ENGINE_LEVEL_FILTERS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/table_cache.h"
#include "engine/version_edit.h"
#include "engine/version_set.h"
#include "learned/filter_monkey.h"
#include "learned/filter_options.h"
#include "learnkv/options.h"
#include "learnkv/slice.h"
#include "learnkv/table_options.h"
#include "util/mutexlock.h"

namespace learnkv {

class LookupMissSampler {
 public:
  // capacity: keys kept per level (0: none). interval: one lookup in about this many is
  // examined (at least 1).
  LookupMissSampler(size_t capacity, int interval);
  LookupMissSampler(const LookupMissSampler&) = delete;
  LookupMissSampler& operator=(const LookupMissSampler&) = delete;

  // Whether the calling thread's next lookup should record its misses: true about once per
  // `interval` calls, at random intervals (so as not to lock onto a period of the workload).
  bool ShouldSample();

  // A sampled lookup of user_key probed a table of `level` and did not find the key there.
  void RecordMiss(int level, const Slice& user_key);

  // A copy of level's sample, in no particular order.
  std::vector<std::string> Sample(int level) const;
  size_t SampleSize(int level) const;
  // Misses recorded at level so far (the stream the sample is drawn from).
  uint64_t MissesSeen(int level) const {
    return levels_[level].seen.load(std::memory_order_relaxed);
  }

  size_t capacity() const { return capacity_; }
  int interval() const { return interval_; }

 private:
  struct Reservoir {
    mutable Mutex mu;
    std::vector<std::string> keys GUARDED_BY(mu);
    std::atomic<uint64_t> seen{0};
  };

  const size_t capacity_;
  const int interval_;
  Reservoir levels_[kNumLevels];
};

class TableNegativeSource final : public NegativeSampleSource {
 public:
  // missed: the job's sampled missed lookups (sorted bytewise; repeats kept), shared by the
  // job's outputs. version (kept alive, and with it the files read) and cache: where keys of
  // the levels deeper than output_level are read; num_levels: the DB's.
  TableNegativeSource(std::shared_ptr<const std::vector<std::string>> missed,
                      std::shared_ptr<const Version> version, TableCache* cache, int output_level,
                      int num_levels);

  // Every user key the table receives, in order (repeats allowed): keeps between
  // kMaxTargets / 2 and kMaxTargets of them, evenly spaced, as where to read deeper keys.
  void NoteKey(const Slice& user_key);

  // The sampled misses in [smallest, largest] (evenly thinned to max_keys), then, up to
  // max_keys in all and at most as many as the table has keys, keys of the first deeper level
  // that has tables overlapping the range. Read errors only make the sample smaller.
  void Sample(const Slice& smallest, const Slice& largest, size_t max_keys,
              std::vector<std::string>* out) const override;

  static constexpr size_t kMaxTargets = 1024;

 private:
  void SampleDeeper(const Slice& smallest, const Slice& largest, size_t budget,
                    std::vector<std::string>* out) const;

  const std::shared_ptr<const std::vector<std::string>> missed_;
  const std::shared_ptr<const Version> version_;
  TableCache* const cache_;
  const int output_level_;
  const int num_levels_;

  uint64_t noted_ = 0;   // keys passed to NoteKey
  uint64_t stride_ = 1;  // every stride-th of them is a target (a power of two)
  std::vector<std::string> targets_;
};

// Keys and filter probes per level of v, for Monkey: every table's entries count as keys;
// an absent-key lookup probes one table per non-empty level deeper than 0 and every L0 table.
std::vector<LevelFilterLoad> LevelLoads(const Version& v, int num_levels);

// The false-positive rate Monkey gives tables written to `level` under loads, for the bits
// that uniform_fpr at every level would take. bits_per_halving: 1.44 for Bloom filters, 1.13
// for fuse filters (kAuto's usual classic choice; a learned filter is sized for the same
// rate). Clamped to [1e-6, 0.5]: a level Monkey would leave without a filter still gets a
// small one, so that its tables keep answering "absent" for most keys.
double MonkeyLevelRate(const std::vector<LevelFilterLoad>& loads, int level, double uniform_fpr,
                       double bits_per_halving);

// Whether a filter type may build learned filters (and so wants negatives).
inline bool FilterTypeLearns(FilterType type) {
  return type == FilterType::kAuto || type == FilterType::kLearned;
}

class OutputFilterPlan {
 public:
  // For a job writing into output_level of version: loads are the DB's levels as they will be
  // with the job's output in place (for Monkey, when options.optimize_filters_for_levels);
  // sampler (may be null) supplies the missed lookups of output_level and the level above.
  // Copies the samples (sorted); call it without the DB mutex.
  OutputFilterPlan(const Options& options, const LookupMissSampler* sampler,
                   std::shared_ptr<const Version> version, TableCache* cache, int output_level,
                   const std::vector<LevelFilterLoad>& loads);

  // The options of the job's tables: the DB's, with the output level's filter rate.
  const TableOptions& table_options() const { return table_options_; }
  // A fresh source for one output table; null when the filter type builds no learned filter.
  std::shared_ptr<TableNegativeSource> NewNegatives() const;

 private:
  TableOptions table_options_;
  const bool learns_;
  const std::shared_ptr<const Version> version_;
  TableCache* const cache_;
  const int output_level_;
  const int num_levels_;
  std::shared_ptr<const std::vector<std::string>> missed_;
};

}  // namespace learnkv

#endif  // LEARNKV_ENGINE_LEVEL_FILTERS_H_
