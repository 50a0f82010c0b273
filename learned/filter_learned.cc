// Learned filter: region planning (PLBF with an optional front filter), building, probing and
// serialization (see filter_learned.h for the algorithm and filter_policy.cc for the block).
#include "learned/filter_learned.h"

#include <algorithm>
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
std::vector<Bin> MakeBins(std::vector<int32_t> keys, std::vector<int32_t> negs, int num_bins) {
  std::sort(keys.begin(), keys.end());
  std::sort(negs.begin(), negs.end());
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
bool AssignWidths(const std::vector<Group>& groups, double total_negs, double target,
                  std::vector<int>* eighths, size_t* bytes, double* fpr) {
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
  while (*fpr > target) {
    size_t pick = groups.size();
    double best_ratio = 0;
    for (size_t i = 0; i < groups.size(); ++i) {
      const int b = (*bits)[i];
      if (b < 0 || b >= FractionalFuseFilter::kMaxEighths) continue;
      const double drop =
          share[i] * (FractionalFuseFilter::Fpr(b) - FractionalFuseFilter::Fpr(b + 1));
      const double cost = static_cast<double>(FilterBytes(groups[i].keys, b + 1)) -
                          static_cast<double>(FilterBytes(groups[i].keys, b));
      const double ratio = drop / std::max(cost, 0.5);
      if (ratio > best_ratio) {
        best_ratio = ratio;
        pick = i;
      }
    }
    if (pick == groups.size()) return false;
    const int b = (*bits)[pick];
    *fpr -= share[pick] * (FractionalFuseFilter::Fpr(b) - FractionalFuseFilter::Fpr(b + 1));
    (*bits)[pick] = b + 1;
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    *bytes += FilterBytes(groups[i].keys, (*bits)[i]) + kRegionOverhead;
  }
  return true;
}

}  // namespace

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
  const std::vector<Bin> bins = MakeBins(key_scores, neg_scores, options.score_bins);
  const double n = static_cast<double>(key_scores.size());
  const double m = static_cast<double>(neg_scores.size());
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
      if (!AssignWidths(groups, m, target, &plan.eighths, &plan.filter_bytes, &plan.fpr)) {
        continue;
      }
      plan.front_eighths = front;
      plan.filter_bytes += FilterBytes(key_scores.size(), front);
      plan.fpr *= pass;
      for (size_t g = 1; g < starts.size(); ++g) plan.thresholds.push_back(bins[starts[g]].lo);
      plan.feasible = true;
      if (!best.feasible || plan.filter_bytes < best.filter_bytes) best = std::move(plan);
    }
  }
  return best;
}

void BestThresholdRates(std::vector<int32_t> keys, std::vector<int32_t> negs, double* fpr,
                        double* fnr) {
  *fpr = 1;
  *fnr = 0;
  if (keys.empty() || negs.empty()) return;
  std::sort(keys.begin(), keys.end());
  std::sort(negs.begin(), negs.end());
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

size_t LearnedFilter::RegionOf(int32_t score) const {
  size_t region = 0;
  while (region < thresholds_.size() && score >= thresholds_[region]) ++region;
  return region;
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
