#include "tools/model_report.h"

#include <algorithm>
#include <bit>
#include <cinttypes>
#include <cstdio>
#include <memory>

#include "sstable/internal_key.h"

namespace learnkv {

void ErrorHistogram::Add(uint64_t error) {
  // Bucket b > 0 holds [2^(b-1), 2^b): the bit width of the error.
  buckets_[std::bit_width(error)]++;
  count_++;
  if (error > max_) max_ = error;
  sum_ += static_cast<double>(error);
}

std::string ErrorHistogram::ToString() const {
  if (count_ == 0) return std::string();
  int first = 0, last = kNumBuckets - 1;
  while (buckets_[first] == 0) ++first;
  while (buckets_[last] == 0) --last;
  char line[160];
  snprintf(line, sizeof(line),
           "Model error |position - prediction| over %" PRIu64 " keys: mean %.2f, max %" PRIu64
           "\n",
           count_, mean(), max_);
  std::string out = line;
  uint64_t cumulative = 0;
  for (int b = first; b <= last; ++b) {
    const uint64_t lo = b == 0 ? 0 : uint64_t{1} << (b - 1);
    cumulative += buckets_[b];
    const double pct = 100.0 * static_cast<double>(buckets_[b]) / static_cast<double>(count_);
    const double cum = 100.0 * static_cast<double>(cumulative) / static_cast<double>(count_);
    // The top bucket's limit, 2^64, does not fit in a uint64.
    char hi[24];
    if (b == 64) {
      snprintf(hi, sizeof(hi), "2^64");
    } else {
      snprintf(hi, sizeof(hi), "%" PRIu64, uint64_t{1} << b);
    }
    snprintf(line, sizeof(line), "  [%8" PRIu64 ", %8s) %10" PRIu64 " %7.3f%% %7.3f%% ", lo, hi,
             buckets_[b], pct, cum);
    out += line;
    out.append(static_cast<size_t>(pct / 2 + 0.5), '#');  // 50 marks = 100%
    out += '\n';
  }
  return out;
}

Status WalkTable(const TableReader& table, size_t max_samples, TableWalk* walk) {
  *walk = TableWalk();
  const Rmi* model = table.model();
  const KeyMapper* mapper = table.key_mapper();
  const uint64_t n = table.num_entries();
  const uint64_t records_per_block = std::max<uint64_t>(1, table.properties().records_per_block);
  const uint64_t stride = max_samples == 0 ? UINT64_MAX : std::max<uint64_t>(1, n / max_samples);
  auto violation = [walk](uint64_t* counter, const std::string& what) {
    if (walk->first_violation.empty()) walk->first_violation = what;
    (*counter)++;
  };

  std::unique_ptr<Iterator> it = table.NewIterator();
  std::string prev;
  uint64_t pos = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++pos) {
    const Slice key = it->key();
    if (key.size() < kInternalKeyTrailerSize) {
      violation(&walk->order_violations, "entry " + std::to_string(pos) + " has no trailer");
    } else if (pos > 0 && CompareInternalKeys(prev, key) >= 0) {
      violation(&walk->order_violations, "entry " + std::to_string(pos) +
                                             " is not after its predecessor: " + key.ToHex() +
                                             " <= " + Slice(prev).ToHex());
    }
    prev.assign(key.data(), key.size());
    if (model == nullptr || key.size() < kInternalKeyTrailerSize) continue;

    const uint64_t x = mapper->Map(ExtractUserKey(key));
    const ApproxPos ap = model->Predict(x);
    if (pos < ap.bound.lo || pos >= ap.bound.hi) {
      violation(&walk->bound_violations, "entry " + std::to_string(pos) + " (mapped key " +
                                             std::to_string(x) + ") outside the model's window [" +
                                             std::to_string(ap.bound.lo) + ", " +
                                             std::to_string(ap.bound.hi) + ")");
    }
    walk->errors.Add(pos > ap.pos ? pos - ap.pos : ap.pos - pos);
    // The reader starts its search at the predicted record's block, clamped into the window.
    const uint64_t start =
        ap.bound.hi > ap.bound.lo ? std::clamp(ap.pos, ap.bound.lo, ap.bound.hi - 1) : ap.bound.lo;
    if (start / records_per_block == pos / records_per_block) walk->same_block++;
    if (pos % stride == 0 && walk->samples.size() < max_samples) {
      walk->samples.push_back(ModelSample{x, pos, ap});
    }
  }
  walk->entries = pos;
  return it->status();
}

std::string ModelReport(const TableReader& table, const TableWalk& walk) {
  if (table.model() == nullptr || walk.errors.count() == 0) return std::string();
  char line[200];
  snprintf(line, sizeof(line),
           "Predicted record in the entry's own data block: %.2f%% (%" PRIu64
           " records per block)\n",
           100.0 * static_cast<double>(walk.same_block) / static_cast<double>(walk.errors.count()),
           table.properties().records_per_block);
  std::string out = walk.errors.ToString() + line;
  if (walk.bound_violations > 0 || walk.order_violations > 0) {
    out += "WARNING: " + std::to_string(walk.bound_violations) +
           " entries outside the model's window, " + std::to_string(walk.order_violations) +
           " out of order; first: " + walk.first_violation + "\n";
  }
  return out;
}

}  // namespace learnkv
