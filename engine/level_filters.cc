#include "engine/level_filters.h"

#include <algorithm>
#include <functional>
#include <iterator>
#include <thread>
#include <utility>

#include "engine/level_iterator.h"
#include "sstable/internal_key.h"
#include "util/random.h"

namespace learnkv {

namespace {

// Per thread: the countdown to the next sampled lookup and a generator for reservoir slots.
struct ThreadSampling {
  ThreadSampling()
      : random(std::hash<std::thread::id>()(std::this_thread::get_id()) * 0x9e3779b97f4a7c15ull +
               reinterpret_cast<uintptr_t>(this)) {}
  Random random;
  int64_t countdown = 0;
};

ThreadSampling& ThisThread() {
  thread_local ThreadSampling sampling;
  return sampling;
}

}  // namespace

// ---- LookupMissSampler

LookupMissSampler::LookupMissSampler(size_t capacity, int interval)
    : capacity_(capacity), interval_(std::max(interval, 1)) {}

bool LookupMissSampler::ShouldSample() {
  ThreadSampling& t = ThisThread();
  if (--t.countdown > 0) return false;
  // Uniform in [1, 2 interval - 1]: one lookup in `interval` on average.
  t.countdown = 1 + t.random.Uniform(static_cast<uint32_t>(2 * interval_ - 1));
  return true;
}

void LookupMissSampler::RecordMiss(int level, const Slice& user_key) {
  if (capacity_ == 0) return;
  Reservoir& r = levels_[level];
  const uint64_t n = r.seen.fetch_add(1, std::memory_order_relaxed) + 1;
  uint64_t slot = n - 1;
  if (n > capacity_) {
    // Algorithm R: the n-th miss replaces a random one of the sample with probability
    // capacity / n. Most misses end here, without the lock.
    slot = ThisThread().random.Uniform64(n);
    if (slot >= capacity_) return;
  }
  MutexLock l(&r.mu);
  if (slot < r.keys.size()) {
    r.keys[slot].assign(user_key.data(), user_key.size());
  } else if (r.keys.size() < capacity_) {
    // One of the first `capacity` misses (racing threads may arrive out of order).
    r.keys.emplace_back(user_key.data(), user_key.size());
  }
}

std::vector<std::string> LookupMissSampler::Sample(int level) const {
  const Reservoir& r = levels_[level];
  MutexLock l(&r.mu);
  return r.keys;
}

size_t LookupMissSampler::SampleSize(int level) const {
  const Reservoir& r = levels_[level];
  MutexLock l(&r.mu);
  return r.keys.size();
}

// ---- TableNegativeSource

TableNegativeSource::TableNegativeSource(std::shared_ptr<const std::vector<std::string>> missed,
                                         std::shared_ptr<const Version> version, TableCache* cache,
                                         int output_level, int num_levels)
    : missed_(std::move(missed)),
      version_(std::move(version)),
      cache_(cache),
      output_level_(output_level),
      num_levels_(num_levels) {}

void TableNegativeSource::NoteKey(const Slice& user_key) {
  if ((++noted_ & (stride_ - 1)) != 0) return;
  targets_.emplace_back(user_key.data(), user_key.size());
  if (targets_.size() >= kMaxTargets) {
    // Keep every other target (those at multiples of the doubled stride) and go on with it.
    for (size_t i = 0; i < targets_.size() / 2; ++i) targets_[i] = std::move(targets_[2 * i + 1]);
    targets_.resize(targets_.size() / 2);
    stride_ *= 2;
  }
}

void TableNegativeSource::Sample(const Slice& smallest, const Slice& largest, size_t max_keys,
                                 std::vector<std::string>* out) const {
  const size_t start = out->size();
  if (missed_ != nullptr) {
    const auto lo =
        std::lower_bound(missed_->begin(), missed_->end(), smallest,
                         [](const std::string& k, const Slice& s) { return Slice(k) < s; });
    const auto hi =
        std::upper_bound(lo, missed_->end(), largest,
                         [](const Slice& s, const std::string& k) { return s < Slice(k); });
    const size_t count = static_cast<size_t>(hi - lo);
    const size_t take = std::min(count, max_keys);
    for (size_t i = 0; i < take; ++i) out->push_back(*(lo + i * count / take));
  }
  const size_t taken = out->size() - start;
  // As many deeper keys as the table has keys at most: enough to learn from without letting a
  // large deeper level dominate the training set (or the time spent reading it).
  const size_t budget =
      static_cast<size_t>(std::min<uint64_t>(max_keys > taken ? max_keys - taken : 0, noted_));
  if (budget > 0) SampleDeeper(smallest, largest, budget, out);
}

void TableNegativeSource::SampleDeeper(const Slice& smallest, const Slice& largest, size_t budget,
                                       std::vector<std::string>* out) const {
  FileList files;
  for (int level = output_level_ + 1; level < num_levels_ && files.empty(); ++level) {
    files = version_->GetOverlappingInputs(level, &smallest, &largest);
  }
  if (files.empty()) return;

  // Where to read: the start of the range, then the noted keys inside it.
  std::vector<Slice> where;
  where.push_back(smallest);
  for (const std::string& t : targets_) {
    if (Slice(t).compare(smallest) > 0 && Slice(t).compare(largest) <= 0) where.emplace_back(t);
  }
  const size_t run = (budget + where.size() - 1) / where.size();

  std::unique_ptr<Iterator> it = NewLevelIterator(cache_, &files, cache_->ForCompaction());
  std::string seek, last;
  bool have_last = false;
  size_t taken = 0;
  for (const Slice& target : where) {
    if (taken >= budget) break;
    // A run may already have gone past this target: go on from there rather than read keys
    // twice.
    if (!it->Valid() || ExtractUserKey(it->key()).compare(target) < 0) {
      seek.clear();
      AppendInternalKey(&seek, target, kMaxSequenceNumber, kValueTypeForSeek);
      it->Seek(seek);
    }
    for (size_t k = 0; k < run && taken < budget && it->Valid(); it->Next()) {
      const Slice user_key = ExtractUserKey(it->key());
      if (user_key.compare(largest) > 0) return;
      if (have_last && user_key == Slice(last)) continue;  // an older version of the same key
      last.assign(user_key.data(), user_key.size());
      have_last = true;
      out->push_back(last);
      ++k;
      ++taken;
    }
    if (!it->status().ok()) return;
  }
}

// ---- Monkey

std::vector<LevelFilterLoad> LevelLoads(const Version& v, int num_levels) {
  std::vector<LevelFilterLoad> loads(static_cast<size_t>(num_levels));
  for (int level = 0; level < num_levels; ++level) {
    LevelFilterLoad& load = loads[static_cast<size_t>(level)];
    for (const auto& f : v.files(level)) load.num_keys += f->num_entries;
    load.probes = level == 0 ? v.NumFiles(0) : (v.NumFiles(level) > 0 ? 1 : 0);
  }
  return loads;
}

double MonkeyLevelRate(const std::vector<LevelFilterLoad>& loads, int level, double uniform_fpr,
                       double bits_per_halving) {
  constexpr double kMinRate = 1e-6, kMaxRate = 0.5;
  uniform_fpr = std::clamp(uniform_fpr, kMinRate, kMaxRate);
  const std::vector<double> uniform(loads.size(), uniform_fpr);
  const double budget = FilterBits(loads, uniform, bits_per_halving);
  if (budget <= 0) return uniform_fpr;  // no keys anywhere yet
  const std::vector<double> rates = AllocateLevelFprs(loads, budget, bits_per_halving, kMinRate);
  return std::clamp(rates[static_cast<size_t>(level)], kMinRate, kMaxRate);
}

// ---- OutputFilterPlan

OutputFilterPlan::OutputFilterPlan(const Options& options, const LookupMissSampler* sampler,
                                   std::shared_ptr<const Version> version, TableCache* cache,
                                   int output_level, const std::vector<LevelFilterLoad>& loads)
    : table_options_(options.table_options),
      learns_(FilterTypeLearns(options.table_options.filter.type)),
      version_(std::move(version)),
      cache_(cache),
      output_level_(output_level),
      num_levels_(options.num_levels) {
  FilterOptions& filter = table_options_.filter;
  if (options.optimize_filters_for_levels && filter.type != FilterType::kNone) {
    // A Bloom filter pays log2(e) = 1.44 bits per key for each halving of its rate, a fuse
    // filter about 1.13 (and kAuto usually picks the fuse filter when it learns nothing).
    const double bits_per_halving = filter.type == FilterType::kBloom ? 1.44 : 1.13;
    filter.target_fpr = MonkeyLevelRate(loads, output_level, filter.target_fpr, bits_per_halving);
  }
  if (!learns_ || sampler == nullptr) return;
  auto missed = std::make_shared<std::vector<std::string>>(sampler->Sample(output_level));
  if (output_level > 0) {
    std::vector<std::string> above = sampler->Sample(output_level - 1);
    missed->insert(missed->end(), std::make_move_iterator(above.begin()),
                   std::make_move_iterator(above.end()));
  }
  std::sort(missed->begin(), missed->end());
  missed_ = std::move(missed);
}

std::shared_ptr<TableNegativeSource> OutputFilterPlan::NewNegatives() const {
  if (!learns_) return nullptr;
  return std::make_shared<TableNegativeSource>(missed_, version_, cache_, output_level_,
                                               num_levels_);
}

}  // namespace learnkv
