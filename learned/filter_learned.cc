// Learned filter: region planning (PLBF with an optional front filter), building, probing and
// serialization (see filter_learned.h for the algorithm and filter_policy.cc for the block).
#include "learned/filter_learned.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>

#include "util/coding.h"

namespace learnkv {

namespace {

constexpr uint8_t kRejectByte = 0xff;
constexpr size_t kMaxRegions = 64;

// Bytes a region adds besides its filter: its threshold.
constexpr size_t kRegionOverhead = 4;

// Bytes of a region's filter (its width byte included).
size_t FilterBytes(uint64_t keys, int eighths) {
  return eighths < 0 ? 0 : FractionalFuseFilter::EncodedBytes(static_cast<size_t>(keys), eighths);
}

struct Bin {
  int32_t lo;  // the bin is [lo, next bin's lo); the first is unbounded below
  uint64_t keys = 0;
  uint64_t negatives = 0;
};

// Bins of the score range whose edges are quantiles of both score sets (every distinct score
// when there are few), plus the smallest and one past the largest key score, so that the
// scores no key has can form regions of their own.
std::vector<Bin> MakeBins(const std::vector<int32_t>& keys, const std::vector<int32_t>& negs,
                          int num_bins) {
  std::vector<int32_t> edges;
  std::vector<int32_t> distinct;
  std::merge(keys.begin(), keys.end(), negs.begin(), negs.end(), std::back_inserter(distinct));
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  if (distinct.size() <= static_cast<size_t>(num_bins)) {
    edges = distinct;
  } else {
    const int half = std::max(1, num_bins / 2);
    for (int j = 1; j < half; ++j) {
      edges.push_back(keys[keys.size() * j / half]);
      edges.push_back(negs[negs.size() * j / half]);
    }
  }
  edges.push_back(keys.front());
  if (keys.back() < std::numeric_limits<int32_t>::max()) edges.push_back(keys.back() + 1);
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());

  std::vector<Bin> bins;
  bins.push_back(Bin{std::numeric_limits<int32_t>::min()});
  for (int32_t e : edges) {
    if (e != std::numeric_limits<int32_t>::min()) bins.push_back(Bin{e});
  }
  auto count = [&](const std::vector<int32_t>& sorted, size_t b) {
    const auto lo =
        b == 0 ? sorted.begin() : std::lower_bound(sorted.begin(), sorted.end(), bins[b].lo);
    const auto hi = b + 1 == bins.size()
                        ? sorted.end()
                        : std::lower_bound(sorted.begin(), sorted.end(), bins[b + 1].lo);
    return static_cast<uint64_t>(hi - lo);
  };
  for (size_t b = 0; b < bins.size(); ++b) {
    bins[b].keys = count(keys, b);
    bins[b].negatives = count(negs, b);
  }
  return bins;
}

// scores sorted: itself if it already is, else a sorted copy in *copy.
const std::vector<int32_t>& Sorted(const std::vector<int32_t>& scores, std::vector<int32_t>* copy) {
  if (std::is_sorted(scores.begin(), scores.end())) return scores;
  *copy = scores;
  SortScores(copy);
  return *copy;
}

struct Group {
  uint64_t keys = 0;
  uint64_t negatives = 0;
};

// Cuts bins into at most k consecutive groups maximizing sum K log(K / N) (the PLBF
// objective), by dynamic programming. Returns the index of each group's first bin.
std::vector<size_t> Partition(const std::vector<Bin>& bins, int k, double total_keys,
                              double total_negs) {
  const size_t b = bins.size();
  std::vector<uint64_t> ck(b + 1, 0), cn(b + 1, 0);
  for (size_t i = 0; i < b; ++i) {
    ck[i + 1] = ck[i] + bins[i].keys;
    cn[i + 1] = cn[i] + bins[i].negatives;
  }
  auto value = [&](size_t i, size_t j) {  // bins [i, j)
    const double keys = static_cast<double>(ck[j] - ck[i]);
    if (keys == 0) return 0.0;
    const double negs = std::max(0.5, static_cast<double>(cn[j] - cn[i]));
    return keys * std::log((keys / total_keys) / (negs / total_negs));
  };
  const double kNone = -std::numeric_limits<double>::infinity();
  // best[g][j]: the best value of bins [0, j) in exactly g groups; from[g][j]: where the last
  // group starts.
  std::vector<std::vector<double>> best(k + 1, std::vector<double>(b + 1, kNone));
  std::vector<std::vector<size_t>> from(k + 1, std::vector<size_t>(b + 1, 0));
  best[0][0] = 0;
  for (int g = 1; g <= k; ++g) {
    for (size_t j = 1; j <= b; ++j) {
      for (size_t i = g - 1; i < j; ++i) {
        if (best[g - 1][i] == kNone) continue;
        const double v = best[g - 1][i] + value(i, j);
        if (v > best[g][j]) {
          best[g][j] = v;
          from[g][j] = i;
        }
      }
    }
  }
  int groups = 1;
  for (int g = 1; g <= k; ++g) {
    if (best[g][b] > best[groups][b] + 1e-9) groups = g;
  }
  std::vector<size_t> starts(groups);
  size_t j = b;
  for (int g = groups; g >= 1; --g) {
    starts[g - 1] = from[g][j];
    j = from[g][j];
  }
  return starts;
}

// Gives the groups filter widths meeting target (on the estimate), an eighth of a bit at a
// time where it buys the most. Returns false if even 16 bits everywhere miss it.
bool AssignWidths(const std::vector<Group>& groups, double key_scale, double total_negs,
                  double target, std::vector<int>* eighths, size_t* bytes, double* fpr) {
  // Keys a group's filter holds: its sampled keys scaled to the table.
  auto keys_of = [&](size_t i) {
    return static_cast<uint64_t>(std::llround(static_cast<double>(groups[i].keys) * key_scale));
  };
  std::vector<int>* bits = eighths;
  bits->assign(groups.size(), RegionPlan::kReject);
  *fpr = 0;
  *bytes = 0;
  std::vector<double> share(groups.size(), 0);
  for (size_t i = 0; i < groups.size(); ++i) {
    if (groups[i].keys == 0) continue;
    (*bits)[i] = RegionPlan::kAccept;
    // Half a negative where none was seen: an unseen region is not assumed to be free.
    share[i] = std::max(0.5, static_cast<double>(groups[i].negatives)) / total_negs;
    *fpr += share[i];
  }
  // What an eighth more costs each group (filter sizes take logarithms: computed once per
  // width a group reaches, not once per step).
  std::vector<double> step_cost(groups.size(), 0);
  auto update_cost = [&](size_t i) {
    const int b = (*bits)[i];
    if (b < 0 || b >= FractionalFuseFilter::kMaxEighths) return;
    step_cost[i] = static_cast<double>(FilterBytes(keys_of(i), b + 1)) -
                   static_cast<double>(FilterBytes(keys_of(i), b));
  };
  for (size_t i = 0; i < groups.size(); ++i) update_cost(i);
  while (*fpr > target) {
    size_t pick = groups.size();
    double best_ratio = 0;
    for (size_t i = 0; i < groups.size(); ++i) {
      const int b = (*bits)[i];
      if (b < 0 || b >= FractionalFuseFilter::kMaxEighths) continue;
      const double drop =
          share[i] * (FractionalFuseFilter::Fpr(b) - FractionalFuseFilter::Fpr(b + 1));
      const double ratio = drop / std::max(step_cost[i], 0.5);
      if (ratio > best_ratio) {
        best_ratio = ratio;
        pick = i;
      }
    }
    if (pick == groups.size()) return false;
    const int b = (*bits)[pick];
    *fpr -= share[pick] * (FractionalFuseFilter::Fpr(b) - FractionalFuseFilter::Fpr(b + 1));
    (*bits)[pick] = b + 1;
    update_cost(pick);
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    *bytes += FilterBytes(keys_of(i), (*bits)[i]) + kRegionOverhead;
  }
  return true;
}

}  // namespace

void SortScores(std::vector<int32_t>* scores) {
  const size_t n = scores->size();
  if (n < 4096) {
    std::sort(scores->begin(), scores->end());
    return;
  }
  // Least significant byte first, four passes, on the scores with their sign bit flipped
  // (which orders them as unsigned numbers).
  std::vector<uint32_t> counts(4 * 256, 0);
  for (int32_t x : *scores) {
    const uint32_t u = static_cast<uint32_t>(x) ^ 0x80000000u;
    for (int p = 0; p < 4; ++p) counts[p * 256 + ((u >> (8 * p)) & 0xff)]++;
  }
  std::vector<int32_t> other(n);
  int32_t* src = scores->data();
  int32_t* dst = other.data();
  for (int p = 0; p < 4; ++p) {
    uint32_t* c = counts.data() + p * 256;
    uint32_t sum = 0;
    for (int b = 0; b < 256; ++b) {
      const uint32_t k = c[b];
      c[b] = sum;
      sum += k;
    }
    for (size_t i = 0; i < n; ++i) {
      const uint32_t u = static_cast<uint32_t>(src[i]) ^ 0x80000000u;
      dst[c[(u >> (8 * p)) & 0xff]++] = src[i];
    }
    std::swap(src, dst);
  }
  // Four passes end in *scores itself.
}

RegionPlan PlanRegions(const std::vector<int32_t>& key_scores,
                       const std::vector<int32_t>& neg_scores, const PlanOptions& options) {
  RegionPlan best;
  if (neg_scores.empty()) return best;
  if (key_scores.empty()) {
    best.eighths = {RegionPlan::kReject};
    best.fpr = 0;
    best.feasible = true;
    best.filter_bytes = kRegionOverhead;
    return best;
  }
  std::vector<int32_t> key_copy, neg_copy;
  const std::vector<Bin> bins =
      MakeBins(Sorted(key_scores, &key_copy), Sorted(neg_scores, &neg_copy), options.score_bins);
  std::vector<int32_t>().swap(key_copy);
  std::vector<int32_t>().swap(neg_copy);
  const double n = static_cast<double>(key_scores.size());
  const double m = static_cast<double>(neg_scores.size());
  const uint64_t num_keys = options.num_keys > 0 ? options.num_keys : key_scores.size();
  const double key_scale = static_cast<double>(num_keys) / n;
  const int max_regions = std::clamp<int>(options.max_regions, 1, kMaxRegions);
  for (int k = 1; k <= max_regions; ++k) {
    const std::vector<size_t> starts = Partition(bins, k, n, m);
    if (static_cast<int>(starts.size()) < k) break;  // more regions no longer help
    std::vector<Group> groups(starts.size());
    for (size_t g = 0; g < starts.size(); ++g) {
      const size_t end = g + 1 < starts.size() ? starts[g + 1] : bins.size();
      for (size_t i = starts[g]; i < end; ++i) {
        groups[g].keys += bins[i].keys;
        groups[g].negatives += bins[i].negatives;
      }
    }
    const int max_front = std::max(options.min_front_eighths, options.max_front_eighths);
    for (int front = options.min_front_eighths; front <= max_front; front += 4) {
      const double pass = FractionalFuseFilter::Fpr(front);
      const double target = std::min(1.0, options.target_fpr / pass);
      RegionPlan plan;
      if (!AssignWidths(groups, key_scale, m, target, &plan.eighths, &plan.filter_bytes,
                        &plan.fpr)) {
        continue;
      }
      plan.front_eighths = front;
      plan.filter_bytes += FilterBytes(num_keys, front);
      plan.fpr *= pass;
      for (size_t g = 1; g < starts.size(); ++g) plan.thresholds.push_back(bins[starts[g]].lo);
      plan.feasible = true;
      if (!best.feasible || plan.filter_bytes < best.filter_bytes) best = std::move(plan);
    }
  }
  return best;
}

void BestThresholdRates(const std::vector<int32_t>& key_scores,
                        const std::vector<int32_t>& neg_scores, double* fpr, double* fnr) {
  *fpr = 1;
  *fnr = 0;
  if (key_scores.empty() || neg_scores.empty()) return;
  std::vector<int32_t> key_copy, neg_copy;
  const std::vector<int32_t>& keys = Sorted(key_scores, &key_copy);
  const std::vector<int32_t>& negs = Sorted(neg_scores, &neg_copy);
  double best = 1;
  size_t k = 0, j = 0;  // keys and negatives below the threshold
  // Thresholds at every distinct score; scanning upwards moves scores below the threshold.
  while (k < keys.size() || j < negs.size()) {
    const int32_t t =
        k < keys.size() && (j >= negs.size() || keys[k] <= negs[j]) ? keys[k] : negs[j];
    while (k < keys.size() && keys[k] <= t) ++k;
    while (j < negs.size() && negs[j] <= t) ++j;
    // Threshold just above t.
    const double fp = 1.0 - static_cast<double>(j) / static_cast<double>(negs.size());
    const double fn = static_cast<double>(k) / static_cast<double>(keys.size());
    if (fp + fn < best) {
      best = fp + fn;
      *fpr = fp;
      *fnr = fn;
    }
  }
}

double SandwichBackupFpr(double fp, double fn) {
  if (fp + fn >= 1) return 1;
  if (fn <= 0) return 0;
  return std::min(1.0, fp / ((1 - fp) * (1 / fn - 1)));
}

LearnedFilter LearnedFilter::Build(std::shared_ptr<const FilterClassifier> classifier,
                                   const RegionPlan& plan, const std::vector<uint64_t>& hashes,
                                   const std::vector<int32_t>& key_scores) {
  LearnedFilter f;
  f.classifier_ = std::move(classifier);
  f.thresholds_ = plan.thresholds;
  f.regions_.resize(plan.eighths.size());
  std::vector<std::vector<uint64_t>> members(plan.eighths.size());
  for (size_t i = 0; i < hashes.size(); ++i)
    members[f.RegionOf(key_scores[i])].push_back(hashes[i]);
  for (size_t r = 0; r < f.regions_.size(); ++r) {
    int eighths = plan.eighths[r];
    // A plan only rejects regions without keys; should one hold keys anyway, accepting them
    // keeps the filter free of false negatives.
    if (eighths == RegionPlan::kReject && !members[r].empty()) eighths = RegionPlan::kAccept;
    f.regions_[r].eighths = eighths;
    if (eighths >= 0) f.regions_[r].filter = FractionalFuseFilter::Build(members[r], eighths);
  }
  if (plan.front_eighths > 0) {
    std::vector<uint64_t> front(hashes.size());
    for (size_t i = 0; i < hashes.size(); ++i) front[i] = FrontHash(hashes[i]);
    f.front_ = FractionalFuseFilter::Build(front, plan.front_eighths);
  }
  return f;
}

size_t LearnedFilter::RegionOf(int32_t score) const { return RegionOfScore(thresholds_, score); }

std::vector<uint8_t> LearnedFilter::SizeCodes(const std::vector<uint64_t>& hashes) {
  std::vector<uint8_t> codes(hashes.size());
  for (size_t i = 0; i < hashes.size(); ++i) {
    codes[i] = static_cast<uint8_t>(FractionalFuseFilter::SplitValue(hashes[i]) |
                                    (FractionalFuseFilter::SplitValue(FrontHash(hashes[i])) << 3));
  }
  return codes;
}

size_t LearnedFilter::PredictBytes(const FilterClassifier& classifier, const RegionPlan& plan,
                                   const std::vector<int32_t>& key_scores,
                                   const std::vector<uint8_t>& size_codes,
                                   std::vector<int>* widths) {
  // Per region and for the front filter, the keys by split value: all a fuse filter's size
  // depends on (the hashes being distinct).
  const size_t regions = plan.eighths.size();
  std::vector<std::array<uint64_t, 8>> split(regions + 1, std::array<uint64_t, 8>{});
  std::array<uint64_t, 8>& front = split[regions];
  for (size_t i = 0; i < key_scores.size(); ++i) {
    split[RegionOfScore(plan.thresholds, key_scores[i])][size_codes[i] & 7]++;
    front[size_codes[i] >> 3]++;
  }
  // As EncodeTo writes it.
  size_t bytes = classifier.EncodedBytes();
  bytes += FractionalFuseFilter::EncodedBytes(front.data(), plan.front_eighths);
  bytes += VarintLength(regions) + 4 * (regions - 1);
  if (widths != nullptr) widths->assign(plan.eighths.begin(), plan.eighths.end());
  for (size_t r = 0; r < regions; ++r) {
    int eighths = plan.eighths[r];
    uint64_t keys = 0;
    for (uint64_t c : split[r]) keys += c;
    if (eighths == RegionPlan::kReject && keys > 0) eighths = RegionPlan::kAccept;  // as Build
    if (widths != nullptr) (*widths)[r] = eighths;
    bytes += eighths < 0 ? 1 : FractionalFuseFilter::EncodedBytes(split[r].data(), eighths);
  }
  return bytes;
}

size_t LearnedFilter::MemoryUsage() const {
  size_t bytes =
      sizeof(*this) + classifier_->MemoryUsage() + thresholds_.size() * 4 + front_.MemoryUsage();
  for (const Region& r : regions_) bytes += sizeof(Region) + r.filter.MemoryUsage();
  return bytes;
}

std::string LearnedFilter::Describe() const {
  auto width = [](int eighths) {
    char buf[32];
    snprintf(buf, sizeof(buf), "%g bits", eighths / 8.0);
    return std::string(buf);
  };
  std::string out = classifier_->Describe();
  if (front_.eighths() > 0) out += "; front " + width(front_.eighths());
  out += "; regions";
  for (size_t r = 0; r < regions_.size(); ++r) {
    out += r == 0 ? " " : " | ";
    const int e = regions_[r].eighths;
    out += e < 0 ? "reject" : e == 0 ? "accept" : width(e);
  }
  return out;
}

void LearnedFilter::EncodeTo(std::string* dst) const {
  classifier_->EncodeTo(dst);
  front_.EncodeTo(dst);
  PutVarint32(dst, static_cast<uint32_t>(regions_.size()));
  for (int32_t t : thresholds_) PutFixed32(dst, static_cast<uint32_t>(t));
  for (const Region& r : regions_) {
    if (r.eighths < 0) {
      dst->push_back(static_cast<char>(kRejectByte));
    } else {
      r.filter.EncodeTo(dst);
    }
  }
}

Status LearnedFilter::DecodeFrom(Slice* input, LearnedFilter* filter) {
  LearnedFilter f;
  std::unique_ptr<FilterClassifier> classifier;
  Status s = FilterClassifier::DecodeFrom(input, &classifier);
  if (!s.ok()) return s;
  f.classifier_ = std::move(classifier);
  s = FractionalFuseFilter::DecodeFrom(input, &f.front_);
  if (!s.ok()) return s;
  uint32_t regions = 0;
  if (!GetVarint32(input, &regions) || regions == 0 || regions > kMaxRegions) {
    return Status::Corruption("learned filter: bad region count");
  }
  f.thresholds_.resize(regions - 1);
  for (uint32_t i = 0; i + 1 < regions; ++i) {
    uint32_t t = 0;
    if (!GetFixed32(input, &t)) return Status::Corruption("learned filter: truncated thresholds");
    f.thresholds_[i] = static_cast<int32_t>(t);
    if (i > 0 && f.thresholds_[i] <= f.thresholds_[i - 1]) {
      return Status::Corruption("learned filter: thresholds out of order");
    }
  }
  f.regions_.resize(regions);
  for (Region& r : f.regions_) {
    if (input->empty()) return Status::Corruption("learned filter: truncated regions");
    if (static_cast<uint8_t>((*input)[0]) == kRejectByte) {
      input->remove_prefix(1);
      r.eighths = RegionPlan::kReject;
      continue;
    }
    s = FractionalFuseFilter::DecodeFrom(input, &r.filter);
    if (!s.ok()) return s;
    r.eighths = r.filter.eighths();
  }
  *filter = std::move(f);
  return Status::OK();
}

}  // namespace learnkv
