// Filter block encoding, the build-time choice between filters, and decoding (see
// filter_policy.h).
//
// Filter block ("learnkv.filter" meta block of a table):
//
//   u8 version (1) | u8 kind (FilterKind: 1 bloom, 2 fuse, 3 learned) | varint64 num_keys
//   | payload: the kind's encoding (filter_bloom.cc, filter_fuse.cc, filter_learned.h)
//   | fixed32 MaskChecksum(XXH3-low32 of every byte before it)
//
// The payload must be consumed exactly. The block's own checksum is verified on every decode,
// so a damaged filter is Corruption even when a table is read without checksum verification:
// a filter must never turn a present key into "absent".
#include "learned/filter_policy.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "learned/filter_hash.h"
#include "learned/key_mapping.h"
#include "util/checksum.h"
#include "util/coding.h"

namespace learnkv {

namespace {

constexpr uint8_t kFilterBlockVersion = 1;
constexpr size_t kChecksumBytes = 4;
// Learned candidates built and measured, of those with the smallest planned size.
constexpr size_t kCandidatesBuilt = 3;

class VectorNegativeSource final : public NegativeSampleSource {
 public:
  explicit VectorNegativeSource(std::vector<std::string> keys) : keys_(std::move(keys)) {
    std::sort(keys_.begin(), keys_.end());
  }

  void Sample(const Slice& smallest, const Slice& largest, size_t max_keys,
              std::vector<std::string>* out) const override {
    const auto lo =
        std::lower_bound(keys_.begin(), keys_.end(), smallest,
                         [](const std::string& k, const Slice& s) { return Slice(k) < s; });
    const auto hi =
        std::upper_bound(keys_.begin(), keys_.end(), largest,
                         [](const Slice& s, const std::string& k) { return s < Slice(k); });
    const size_t count = hi > lo ? static_cast<size_t>(hi - lo) : 0;
    const size_t take = std::min(count, max_keys);
    for (size_t i = 0; i < take; ++i) out->push_back(*(lo + i * count / take));
  }

 private:
  std::vector<std::string> keys_;
};

uint64_t MicrosSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

std::string Format(const char* fmt, double a, double b) {
  char buf[160];
  snprintf(buf, sizeof(buf), fmt, a, b);
  return buf;
}

}  // namespace

const char* FilterTypeName(FilterType type) {
  switch (type) {
    case FilterType::kNone:
      return "none";
    case FilterType::kBloom:
      return "bloom";
    case FilterType::kFuse:
      return "fuse";
    case FilterType::kAuto:
      return "auto";
    case FilterType::kLearned:
      return "learned";
  }
  return "unknown";
}

const char* FilterKindName(FilterKind kind) {
  switch (kind) {
    case FilterKind::kBloom:
      return "bloom";
    case FilterKind::kFuse:
      return "fuse";
    case FilterKind::kLearned:
      return "learned";
  }
  return "unknown";
}

std::shared_ptr<const NegativeSampleSource> NewVectorNegativeSource(std::vector<std::string> keys) {
  return std::make_shared<VectorNegativeSource>(std::move(keys));
}

void EncodeFilterBlock(FilterKind kind, uint64_t num_keys, const std::string& payload,
                       std::string* block) {
  const size_t start = block->size();
  block->push_back(static_cast<char>(kFilterBlockVersion));
  block->push_back(static_cast<char>(kind));
  PutVarint64(block, num_keys);
  block->append(payload);
  PutFixed32(block, MaskChecksum(Checksum32(block->data() + start, block->size() - start)));
}

// ---- Building ----

FilterBuilder::FilterBuilder(const FilterOptions& options)
    : options_(options),
      keep_keys_((options.type == FilterType::kAuto || options.type == FilterType::kLearned) &&
                 options.negatives != nullptr) {
  if (keep_keys_) key_offsets_.push_back(0);
}

void FilterBuilder::AddKey(const Slice& user_key) {
  if (options_.type == FilterType::kNone) return;
  if (!hashes_.empty() && user_key == Slice(last_key_)) return;
  last_key_.assign(user_key.data(), user_key.size());
  hashes_.push_back(FilterKeyHash(user_key));
  if (keep_keys_) {
    key_bytes_.append(user_key.data(), user_key.size());
    key_offsets_.push_back(static_cast<uint32_t>(key_bytes_.size()));
    if (key_bytes_.size() > UINT32_MAX / 2) {
      // Too many key bytes to keep for training: the classic filter will do.
      std::string().swap(key_bytes_);
      std::vector<uint32_t>().swap(key_offsets_);
      keep_keys_ = false;
    }
  }
}

namespace {

// One learned candidate, built and measured.
struct LearnedCandidate {
  LearnedFilter filter;
  std::string payload;
  double measured_fpr = 1;
  double model_fpr = 1, model_fnr = 0;
  size_t model_bytes = 0;
};

// Held-out negatives as distinct keys with their counts: a missed key asked for often weighs
// more, and its repeats are one observation, not many, when judging how sure a rate is.
struct Heldout {
  std::vector<Slice> keys;
  std::vector<uint32_t> counts;
  uint64_t total = 0;
  double sum_sq_counts = 0;

  void Set(std::vector<Slice> samples) {
    std::sort(samples.begin(), samples.end());
    for (size_t i = 0; i < samples.size(); ++i) {
      if (i > 0 && samples[i] == samples[i - 1]) {
        counts.back()++;
      } else {
        keys.push_back(samples[i]);
        counts.push_back(1);
      }
    }
    total = samples.size();
    for (uint32_t c : counts) sum_sq_counts += static_cast<double>(c) * c;
  }
  bool empty() const { return total == 0; }
};

struct NegativeSplit {
  std::vector<Slice> fit, calibration;
  Heldout heldout;
};

// The false-positive rate over the held-out lookups and its standard error (distinct keys as
// the sampling units; at least one in the effective sample size counts as a hit for the error,
// so that a clean sheet on few keys is not taken as certainty).
double MeasureFpr(const Heldout& h, const auto& may_contain, double* se = nullptr) {
  if (h.empty()) return 0;
  uint64_t hits = 0;
  for (size_t i = 0; i < h.keys.size(); ++i) hits += may_contain(h.keys[i]) ? h.counts[i] : 0;
  const double m = static_cast<double>(h.total);
  const double fpr = static_cast<double>(hits) / m;
  if (se != nullptr) {
    const double effective = m * m / h.sum_sq_counts;
    const double p = std::max(fpr, 1 / effective);
    *se = std::sqrt(p * (1 - p) / effective);
  }
  return fpr;
}

// A trained classifier with its scores and the region plan for the target.
struct Scored {
  std::shared_ptr<const FilterClassifier> classifier;
  std::vector<int32_t> key_scores, cal_scores;
  double model_fpr = 1, model_fnr = 0;
  RegionPlan plan;
  int min_front_eighths = 0;
  size_t estimate = 0;  // model + planned filters, bytes
};

// Scores the keys and the calibration negatives, applies the FPR + FNR rule and plans the
// regions. False (with the reason) if the classifier is useless or no plan meets the target.
bool ScoreAndPlan(std::shared_ptr<const FilterClassifier> classifier,
                  const std::vector<Slice>& keys, const NegativeSplit& split, double target,
                  int min_front_eighths, Scored* out, std::string* why_not) {
  out->classifier = std::move(classifier);
  out->key_scores.resize(keys.size());
  out->cal_scores.resize(split.calibration.size());
  for (size_t i = 0; i < keys.size(); ++i) out->key_scores[i] = out->classifier->Score(keys[i]);
  for (size_t i = 0; i < split.calibration.size(); ++i) {
    out->cal_scores[i] = out->classifier->Score(split.calibration[i]);
  }
  BestThresholdRates(out->key_scores, out->cal_scores, &out->model_fpr, &out->model_fnr);
  // Chance is FPR + FNR = 1. The best threshold is picked on the same sample it is measured
  // on, so the sum must stay below 1 by more than its noise (three standard errors at worst,
  // rates near 1/2) to count as beating chance.
  const double noise =
      1.5 * std::sqrt(1.0 / static_cast<double>(std::max<size_t>(out->cal_scores.size(), 1)) +
                      1.0 / static_cast<double>(std::max<size_t>(keys.size(), 1)));
  if (out->model_fpr + out->model_fnr >= 1 - noise) {
    *why_not = "no classifier beats chance (FPR + FNR not below 1 at any threshold)";
    return false;
  }
  PlanOptions plan_options;
  plan_options.target_fpr = target;
  plan_options.min_front_eighths = min_front_eighths;
  out->plan = PlanRegions(out->key_scores, out->cal_scores, plan_options);
  out->min_front_eighths = min_front_eighths;
  if (!out->plan.feasible) {
    *why_not = "no region plan meets the target";
    return false;
  }
  out->estimate = out->classifier->EncodedBytes() + out->plan.filter_bytes;
  return true;
}

// Builds the planned filter and measures it on the held-out negatives; re-plans for a lower
// target while the measured rate misses the target. False if it never meets it.
bool BuildAndMeasure(const Scored& scored, const std::vector<uint64_t>& hashes,
                     const NegativeSplit& split, double target, LearnedCandidate* out,
                     std::string* why_not) {
  RegionPlan plan = scored.plan;
  double plan_target = target;
  for (int attempt = 0; attempt < 4 && plan.feasible; ++attempt) {
    LearnedFilter filter = LearnedFilter::Build(scored.classifier, plan, hashes, scored.key_scores);
    double se = 0;
    const double fpr = MeasureFpr(
        split.heldout, [&](const Slice& k) { return filter.MayContain(k, FilterKeyHash(k)); }, &se);
    // The rate must hold with one standard error to spare: the smallest of several candidates
    // that pass is otherwise an optimistic pick.
    if (fpr + se <= target) {
      out->payload.clear();
      filter.EncodeTo(&out->payload);
      out->filter = std::move(filter);
      out->measured_fpr = fpr;
      out->model_fpr = scored.model_fpr;
      out->model_fnr = scored.model_fnr;
      out->model_bytes = scored.classifier->EncodedBytes();
      return true;
    }
    plan_target *= std::max(0.2, 0.9 * target / (fpr + se));
    PlanOptions plan_options;
    plan_options.target_fpr = plan_target;
    plan_options.min_front_eighths = scored.min_front_eighths;
    plan = PlanRegions(scored.key_scores, scored.cal_scores, plan_options);
  }
  *why_not = "no learned filter met the target on held-out negatives";
  return false;
}

}  // namespace

void FilterBuilder::Finish(std::string* block, FilterReport* report) {
  const auto start = std::chrono::steady_clock::now();
  *report = FilterReport();
  if (options_.type == FilterType::kNone) return;
  const double target = std::clamp(options_.target_fpr, 1e-6, 0.999);
  const size_t n = hashes_.size();
  report->num_keys = n;
  report->target_fpr = target;

  // The classic filter: the Bloom filter or the fuse filter, whichever is smaller at the
  // target (the fuse filter at the width, from the exact one up to the next whole bit, that
  // takes the fewest bytes: splitting into two widths costs small sets more than it saves).
  int fuse_eighths = FractionalFuseFilter::EighthsFor(target);
  size_t fuse_bytes = FractionalFuseFilter::EncodedBytes(n, fuse_eighths);
  for (int e = fuse_eighths + 1; e % 8 != 1 && e <= FractionalFuseFilter::kMaxEighths; ++e) {
    const size_t bytes = FractionalFuseFilter::EncodedBytes(n, e);
    if (bytes < fuse_bytes) {
      fuse_bytes = bytes;
      fuse_eighths = e;
    }
  }
  const double bloom_bpk = BloomFilter::BitsPerKeyFor(target);
  const size_t bloom_bytes = BloomFilter::EncodedBytes(n, bloom_bpk);
  const FilterKind classic = options_.type == FilterType::kBloom  ? FilterKind::kBloom
                             : options_.type == FilterType::kFuse ? FilterKind::kFuse
                             : bloom_bytes < fuse_bytes           ? FilterKind::kBloom
                                                                  : FilterKind::kFuse;
  std::unique_ptr<Filter> classic_filter(new Filter());
  classic_filter->kind_ = classic;
  std::string classic_payload;
  double classic_fpr;
  if (classic == FilterKind::kBloom) {
    classic_filter->bloom_ = BloomFilter::Build(hashes_.data(), n, bloom_bpk);
    classic_filter->bloom_.EncodeTo(&classic_payload);
    classic_fpr = BloomFilter::ExpectedFpr(
        static_cast<double>(classic_filter->bloom_.num_blocks()) * BloomFilter::kBlockBits /
            static_cast<double>(std::max<size_t>(n, 1)),
        classic_filter->bloom_.num_probes());
  } else {
    classic_filter->fuse_ = FractionalFuseFilter::Build(hashes_, fuse_eighths);
    classic_filter->fuse_.EncodeTo(&classic_payload);
    classic_fpr = FractionalFuseFilter::Fpr(fuse_eighths);
  }
  report->classic_bytes = classic_payload.size();

  // Negatives in the table's key range, minus the table's own keys, split at random by sample:
  // a key asked for again and again appears in every part as it will in the workload (split
  // by key, the parts that judge the classifier would never hold the keys it learned from, and
  // would underrate how often those come back).
  std::vector<std::string> negs;
  std::vector<Slice> keys;
  if (keep_keys_ && n > 0) {
    keys.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      keys.emplace_back(key_bytes_.data() + key_offsets_[i], key_offsets_[i + 1] - key_offsets_[i]);
    }
    options_.negatives->Sample(keys.front(), keys.back(), options_.max_negatives, &negs);
  }
  NegativeSplit split;
  std::vector<Slice> heldout;
  if (!negs.empty()) {
    std::vector<uint64_t> sorted(hashes_);
    std::sort(sorted.begin(), sorted.end());
    const double holdout = std::clamp(options_.holdout_fraction, 0.05, 0.9);
    for (size_t i = 0; i < negs.size(); ++i) {
      const std::string& k = negs[i];
      const uint64_t h = FilterKeyHash(k);
      if (std::binary_search(sorted.begin(), sorted.end(), h)) continue;
      const uint64_t r = Remix64(h + (i + 1) * 0x9e3779b97f4a7c15ull);
      const double u = static_cast<double>(r >> 11) * 0x1.0p-53;
      if (u < holdout) {
        heldout.emplace_back(k);
      } else if (u < holdout + (1 - holdout) / 2) {
        split.fit.emplace_back(k);
      } else {
        split.calibration.emplace_back(k);
      }
    }
  }
  split.heldout.Set(std::move(heldout));
  const size_t num_negs = split.fit.size() + split.calibration.size() + split.heldout.total;
  report->negatives = num_negs;

  // The learned candidates.
  std::string why_not;
  LearnedCandidate best;
  bool have_learned = false;
  if (options_.type != FilterType::kAuto && options_.type != FilterType::kLearned) {
    why_not = std::string("filter type is ") + FilterTypeName(options_.type);
  } else if (options_.negatives == nullptr) {
    why_not = "no negatives to train on";
  } else if (!keep_keys_) {
    why_not = "too many key bytes to train on";
  } else if (num_negs < std::max<size_t>(options_.min_negatives, 3) || n == 0) {
    why_not = "only " + std::to_string(num_negs) + " negatives in the key range (fewer than " +
              std::to_string(options_.min_negatives) + ")";
  } else {
    std::vector<std::shared_ptr<const FilterClassifier>> candidates;
    // Models that alone would reach the classic filter's size are not worth training.
    const size_t model_budget = report->classic_bytes / 2;
    for (int log2_slots : {14, 12, 10}) {
      if ((size_t{1} << log2_slots) > model_budget) continue;
      NgramTrainOptions train;
      train.log2_slots = log2_slots;
      for (auto& c :
           NgramClassifier::Train(keys, split.fit, train, {WeightBits::k8, WeightBits::k4})) {
        candidates.push_back(std::move(c));
      }
      if (candidates.size() == 4) break;
    }
    // The key mapping the learned index uses (common prefix, per-position byte ranges).
    KeyMapperBuilder mapper_builder;
    for (const Slice& k : keys) mapper_builder.Add(k);
    std::vector<uint64_t> mapped;
    const KeyMapper mapper = mapper_builder.Finish(&mapped);
    const uint64_t span = mapped.back() - mapped.front();
    std::vector<uint64_t> mapped_fit(split.fit.size());
    for (size_t i = 0; i < split.fit.size(); ++i) mapped_fit[i] = mapper.Map(split.fit[i]);
    for (int class_bits : {1, 2, 4}) {
      for (double cells_per_key : {0.125, 0.25, 0.5, 1.0, 2.0}) {
        const double want = std::max(1.0, static_cast<double>(n) * cells_per_key);
        int shift = 0;
        while (shift < 63 && static_cast<double>(span >> shift) + 1 > want) ++shift;
        if (GridClassifier::EstimateBytes(mapper, span, shift, class_bits) > model_budget) continue;
        candidates.push_back(GridClassifier::Train(mapper, mapped, mapped_fit, shift, class_bits));
      }
    }
    // Plan every candidate (cheap), then build and measure the most promising few.
    std::vector<Scored> planned;
    for (auto& c : candidates) {
      Scored scored;
      std::string why;
      // A slow classifier goes behind a front filter that screens most absent keys.
      const double share = std::clamp(options_.max_scored_share, 1e-3, 1.0);
      const int min_front =
          c->kind() == ClassifierKind::kNgram
              ? std::min(32, 4 * static_cast<int>(std::ceil(2 * std::log2(1 / share) - 1e-9)))
              : 0;
      if (ScoreAndPlan(std::move(c), keys, split, target, min_front, &scored, &why)) {
        planned.push_back(std::move(scored));
      } else if (why_not.empty()) {
        why_not = why;
      }
    }
    std::sort(planned.begin(), planned.end(),
              [](const Scored& a, const Scored& b) { return a.estimate < b.estimate; });
    for (size_t i = 0; i < planned.size() && i < kCandidatesBuilt; ++i) {
      LearnedCandidate candidate;
      std::string why;
      if (!BuildAndMeasure(planned[i], hashes_, split, target, &candidate, &why)) {
        if (why_not.empty()) why_not = why;
        continue;
      }
      if (!have_learned || candidate.payload.size() < best.payload.size()) {
        best = std::move(candidate);
        have_learned = true;
      }
    }
    if (candidates.empty()) why_not = "the table is too small for a model";
  }

  FilterKind kind = classic;
  std::string payload;
  if (have_learned) {
    report->learned_bytes = best.payload.size();
    report->model_bytes = best.model_bytes;
    report->model_fpr = best.model_fpr;
    report->model_fnr = best.model_fnr;
    report->detail = best.filter.Describe();
    const double limit = (1 - std::clamp(options_.min_learned_saving, 0.0, 1.0)) *
                         static_cast<double>(report->classic_bytes);
    if (options_.type == FilterType::kLearned || static_cast<double>(best.payload.size()) < limit) {
      kind = FilterKind::kLearned;
      payload = std::move(best.payload);
      report->measured_fpr = best.measured_fpr;
      report->heldout_negatives = split.heldout.total;
      report->reason = options_.type == FilterType::kLearned
                           ? "filter type is learned"
                           : Format("learned %.0f bytes < classic %.0f bytes",
                                    static_cast<double>(report->learned_bytes),
                                    static_cast<double>(report->classic_bytes));
    } else {
      report->reason = Format("learned %.0f bytes saves too little on classic %.0f bytes",
                              static_cast<double>(report->learned_bytes),
                              static_cast<double>(report->classic_bytes));
    }
  } else {
    report->reason = why_not;
  }

  if (kind != FilterKind::kLearned) {
    // The classic filter; measured on the held-out negatives when there are some.
    payload = std::move(classic_payload);
    report->measured_fpr = classic_fpr;
    if (!split.heldout.empty()) {
      report->measured_fpr =
          MeasureFpr(split.heldout, [&](const Slice& k) { return classic_filter->KeyMayMatch(k); });
      report->heldout_negatives = split.heldout.total;
    }
  }
  report->kind = FilterKindName(kind);
  const size_t before = block->size();
  EncodeFilterBlock(kind, n, payload, block);
  report->bytes = block->size() - before;
  report->bits_per_key =
      n == 0 ? 0 : 8.0 * static_cast<double>(report->bytes) / static_cast<double>(n);
  report->build_micros = MicrosSince(start);
}

// ---- Reading ----

Status Filter::DecodeFrom(const Slice& block, std::unique_ptr<Filter>* result) {
  result->reset();
  if (block.size() < 2 + 1 + kChecksumBytes) return Status::Corruption("filter block: too short");
  const size_t body = block.size() - kChecksumBytes;
  if (UnmaskChecksum(DecodeFixed32(block.data() + body)) != Checksum32(block.data(), body)) {
    return Status::Corruption("filter block: checksum mismatch");
  }
  if (static_cast<uint8_t>(block[0]) != kFilterBlockVersion) {
    return Status::Corruption("filter block: unsupported version " +
                              std::to_string(static_cast<uint8_t>(block[0])));
  }
  std::unique_ptr<Filter> f(new Filter());
  const uint8_t kind = static_cast<uint8_t>(block[1]);
  Slice input(block.data() + 2, body - 2);
  if (!GetVarint64(&input, &f->num_keys_)) return Status::Corruption("filter block: bad key count");
  Status s;
  switch (kind) {
    case static_cast<uint8_t>(FilterKind::kBloom):
      s = BloomFilter::DecodeFrom(&input, &f->bloom_);
      break;
    case static_cast<uint8_t>(FilterKind::kFuse):
      s = FractionalFuseFilter::DecodeFrom(&input, &f->fuse_);
      break;
    case static_cast<uint8_t>(FilterKind::kLearned):
      s = LearnedFilter::DecodeFrom(&input, &f->learned_);
      break;
    default:
      return Status::Corruption("filter block: unknown kind " + std::to_string(kind));
  }
  if (!s.ok()) return s;
  if (!input.empty()) return Status::Corruption("filter block: trailing bytes");
  f->kind_ = static_cast<FilterKind>(kind);
  *result = std::move(f);
  return Status::OK();
}

bool Filter::KeyMayMatch(const Slice& user_key) const {
  const uint64_t h = FilterKeyHash(user_key);
  switch (kind_) {
    case FilterKind::kBloom:
      return bloom_.MayContain(h);
    case FilterKind::kFuse:
      return fuse_.MayContain(h);
    case FilterKind::kLearned:
      return learned_.MayContain(user_key, h);
  }
  return true;
}

size_t Filter::MemoryUsage() const {
  switch (kind_) {
    case FilterKind::kBloom:
      return sizeof(*this) + bloom_.MemoryUsage();
    case FilterKind::kFuse:
      return sizeof(*this) + fuse_.MemoryUsage();
    case FilterKind::kLearned:
      return sizeof(*this) + learned_.MemoryUsage();
  }
  return sizeof(*this);
}

std::string Filter::Describe() const {
  switch (kind_) {
    case FilterKind::kBloom:
      return "bloom " + std::to_string(bloom_.num_blocks()) + " blocks, " +
             std::to_string(bloom_.num_probes()) + " probes";
    case FilterKind::kFuse:
      return "fuse " + std::to_string(fuse_.eighths() / 8.0) + "-bit fingerprints";
    case FilterKind::kLearned:
      return "learned: " + learned_.Describe();
  }
  return "unknown";
}

}  // namespace learnkv
