// The learned filter search: screen on a sample, then plan, size, build and measure the most
// promising few (see filter_search.h).
#include "learned/filter_search.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>

#include "learned/filter_classifier.h"
#include "learned/filter_hash.h"
#include "learned/key_mapping.h"
#include "util/coding.h"

namespace learnkv {

// ---- PackedKeys ----

void PackedKeys::Add(const Slice& key) {
  size_t shared = 0;
  if (count_ == 0) {
    first_.assign(key.data(), key.size());
  } else {
    const size_t limit = std::min(last_.size(), key.size());
    while (shared < limit && last_[shared] == key[shared]) ++shared;
  }
  PutVarint32(&data_, static_cast<uint32_t>(shared));
  PutVarint32(&data_, static_cast<uint32_t>(key.size() - shared));
  data_.append(key.data() + shared, key.size() - shared);
  last_.assign(key.data(), key.size());
  ++count_;
}

void PackedKeys::Clear() {
  std::string().swap(data_);
  first_.clear();
  last_.clear();
  count_ = 0;
}

bool PackedKeys::Cursor::Next() {
  const std::string& data = keys_.data_;
  if (pos_ >= data.size()) return false;
  Slice in(data.data() + pos_, data.size() - pos_);
  uint32_t shared = 0, unshared = 0;
  // Written by Add: well formed.
  GetVarint32(&in, &shared);
  GetVarint32(&in, &unshared);
  key_.resize(shared);
  key_.append(in.data(), unshared);
  pos_ = data.size() - in.size() + unshared;
  return true;
}

// ---- Heldout ----

void Heldout::Set(std::vector<Slice> samples) {
  std::sort(samples.begin(), samples.end());
  keys.clear();
  counts.clear();
  for (size_t i = 0; i < samples.size(); ++i) {
    if (i > 0 && samples[i] == samples[i - 1]) {
      counts.back()++;
    } else {
      keys.push_back(samples[i]);
      counts.push_back(1);
    }
  }
  total = samples.size();
  sum_sq_counts = 0;
  for (uint32_t c : counts) sum_sq_counts += static_cast<double>(c) * c;
}

namespace {

// Candidates that go on from the screen to the full stage.
constexpr size_t kFinalists = 3;
// Re-plans of a layout whose expected held-out rate misses the target, before it is built;
// and after a built filter's measured rate missed it.
constexpr int kExpectedReplans = 4;
constexpr int kMeasuredReplans = 3;
// How far above the kAuto limit the screen's best estimate may lie and the full stage still
// run: the screen's n-gram models learn from fewer samples than the full ones.
constexpr double kScreenSlack = 0.0;

std::string Format(const char* fmt, double a, double b) {
  char buf[200];
  snprintf(buf, sizeof(buf), fmt, a, b);
  return buf;
}

// Chance is FPR + FNR = 1. The best threshold is picked on the same sample it is measured on,
// so the sum must stay below 1 by more than its noise (three standard errors at worst, rates
// near 1/2) to count as beating chance.
bool BeatsChance(double fpr, double fnr, size_t negatives, size_t keys) {
  const double noise = 1.5 * std::sqrt(1.0 / static_cast<double>(std::max<size_t>(negatives, 1)) +
                                       1.0 / static_cast<double>(std::max<size_t>(keys, 1)));
  return fpr + fnr < 1 - noise;
}

const char* const kNoBetterThanChance =
    "no classifier beats chance (FPR + FNR not below 1 at any threshold)";
const char* const kNoPlan = "no region plan meets the target";
const char* const kMissedTarget = "no learned filter met the target on held-out negatives";

// The rate a layout is expected to have on the held-out negatives (heldout_scores: their
// classifier scores), with its standard error: region widths as in widths, the front filter as
// in plan.
double ExpectedFpr(const Heldout& heldout, const std::vector<int32_t>& heldout_scores,
                   const RegionPlan& plan, const std::vector<int>& widths, double* se) {
  const double front = plan.front_eighths > 0 ? FractionalFuseFilter::Fpr(plan.front_eighths) : 1.0;
  return HeldoutFpr(
      heldout,
      [&](size_t i) {
        const int w = widths[LearnedFilter::RegionOfScore(plan.thresholds, heldout_scores[i])];
        return w < 0 ? 0.0 : front * FractionalFuseFilter::Fpr(w);
      },
      se);
}

// The next target to plan for after a layout's (expected or measured) held-out rate plus its
// standard error came out at rate, over the target.
double LowerTarget(double plan_target, double target, double rate) {
  return plan_target * std::max(0.2, 0.9 * target / rate);
}

// A classifier of the screen.
struct Candidate {
  std::shared_ptr<const FilterClassifier> classifier;
  const GridClassifier* grid = nullptr;  // the classifier, when a grid
  int log2_slots = 0;                    // an n-gram model's size
  WeightBits bits = WeightBits::k8;      // and width
  int min_front_eighths = 0;
  size_t estimate = 0;  // model + planned filters for the whole table, bytes
};

// A classifier of the full stage, with its scores and layout.
struct Finalist {
  std::shared_ptr<const FilterClassifier> classifier;
  int min_front_eighths = 0;
  double model_fpr = 1, model_fnr = 0;
  std::vector<int32_t> key_scores;      // every key's, in key order
  std::vector<int32_t> sorted_keys;     // the same, sorted (for planning)
  std::vector<int32_t> cal_scores;      // calibration negatives', sorted
  std::vector<int32_t> heldout_scores;  // per distinct held-out key
  RegionPlan plan;
  double plan_target = 0;
  std::vector<int> widths;  // as built (PredictBytes)
  size_t predicted = 0;     // encoded bytes, as built
  int measured_replans = 0;
};

class Search {
 public:
  Search(const FilterOptions& options, double target, const PackedKeys& keys,
         const std::vector<uint64_t>& hashes, const NegativeSplit& split, size_t classic_bytes,
         size_t limit_bytes)
      : options_(options),
        target_(target),
        keys_(keys),
        hashes_(hashes),
        split_(split),
        classic_bytes_(classic_bytes),
        limit_bytes_(options.type == FilterType::kAuto ? limit_bytes
                                                       : std::numeric_limits<size_t>::max()),
        n_(keys.size()) {}

  LearnedSearchResult Run();

 private:
  void SampleKeys();
  void MapKeys();
  std::vector<Candidate> Screen();
  bool Settle(Finalist* f);
  bool Finalize(const Candidate& c, Finalist* f);
  std::shared_ptr<const FilterClassifier> FullNgram(const Candidate& c);
  void Reason(const std::string& why) {
    if (why_not_.empty()) why_not_ = why;
  }

  const FilterOptions& options_;
  const double target_;
  const PackedKeys& keys_;
  const std::vector<uint64_t>& hashes_;
  const NegativeSplit& split_;
  const size_t classic_bytes_;
  const size_t limit_bytes_;
  const size_t n_;
  std::string why_not_;

  // The screen's keys: every key's index i * n / s for i < s, the keys themselves.
  std::vector<size_t> sample_index_;
  std::string sample_bytes_;
  std::vector<Slice> sample_;
  size_t screen_cap_ = 0;       // n-gram training samples per class in the screen
  bool screen_is_full_ = true;  // the screen trained n-gram models as the full stage would

  // The key mapping grids use, every key's value under it, the negatives'.
  KeyMapper mapper_;
  std::vector<uint64_t> mapped_, mapped_fit_, mapped_cal_, mapped_heldout_;

  // Per key, what sizes its filters (LearnedFilter::SizeCodes).
  std::vector<uint8_t> size_codes_;
  // Full-size n-gram models by log2_slots, one per width.
  std::map<int, std::vector<std::unique_ptr<NgramClassifier>>> full_ngrams_;
};

void Search::SampleKeys() {
  const size_t full_cap = NgramTrainOptions().max_samples_per_class;
  const bool screening = options_.screen_keys > 0 && options_.screen_keys < n_;
  const size_t want = screening ? options_.screen_keys : n_;
  screen_cap_ = options_.screen_keys > 0 ? std::min(options_.screen_keys, full_cap) : full_cap;
  // The full stage samples min(n, full_cap) keys and fit negatives; the screen the same ones
  // when its sample and cap cover them.
  screen_is_full_ = !screening && (screen_cap_ == full_cap ||
                                   (screen_cap_ >= n_ && screen_cap_ >= split_.fit.size()));
  sample_index_.resize(want);
  for (size_t i = 0; i < want; ++i) sample_index_[i] = i * n_ / want;
  std::vector<size_t> ends;
  ends.reserve(want);
  PackedKeys::Cursor cursor(keys_);
  size_t next = 0;
  for (size_t i = 0; next < want && cursor.Next(); ++i) {
    if (i != sample_index_[next]) continue;
    sample_bytes_.append(cursor.key().data(), cursor.key().size());
    ends.push_back(sample_bytes_.size());
    ++next;
  }
  sample_.reserve(want);
  for (size_t i = 0; i < ends.size(); ++i) {
    const size_t begin = i == 0 ? 0 : ends[i - 1];
    sample_.emplace_back(sample_bytes_.data() + begin, ends[i] - begin);
  }
}

void Search::MapKeys() {
  // The key mapping of the learned index (common prefix, per-position byte ranges).
  KeyMapperBuilder builder;
  PackedKeys::Cursor cursor(keys_);
  while (cursor.Next()) builder.Add(cursor.key());
  mapper_ = builder.Finish(&mapped_);
  mapped_fit_.resize(split_.fit.size());
  for (size_t i = 0; i < split_.fit.size(); ++i) mapped_fit_[i] = mapper_.Map(split_.fit[i]);
  mapped_cal_.resize(split_.calibration.size());
  for (size_t i = 0; i < split_.calibration.size(); ++i) {
    mapped_cal_[i] = mapper_.Map(split_.calibration[i]);
  }
  mapped_heldout_.resize(split_.heldout.keys.size());
  for (size_t i = 0; i < mapped_heldout_.size(); ++i) {
    mapped_heldout_[i] = mapper_.Map(split_.heldout.keys[i]);
  }
}

std::vector<Candidate> Search::Screen() {
  std::vector<Candidate> candidates;
  // Models that alone would reach the classic filter's size are not worth training.
  const size_t model_budget = classic_bytes_ / 2;
  // A slow classifier goes behind a front filter that screens most absent keys.
  const double share = std::clamp(options_.max_scored_share, 1e-3, 1.0);
  const int ngram_front =
      std::min(32, 4 * static_cast<int>(std::ceil(2 * std::log2(1 / share) - 1e-9)));
  int ngram_sizes = 0;
  for (int log2_slots : {14, 12, 10}) {
    if ((size_t{1} << log2_slots) > model_budget || ngram_sizes == 2) continue;
    ++ngram_sizes;
    NgramTrainOptions train;
    train.log2_slots = log2_slots;
    train.max_samples_per_class = screen_cap_;
    const std::vector<WeightBits> widths = {WeightBits::k8, WeightBits::k4};
    std::vector<std::unique_ptr<NgramClassifier>> models =
        NgramClassifier::Train(sample_, split_.fit, train, widths);
    for (size_t i = 0; i < models.size(); ++i) {
      Candidate c;
      c.log2_slots = log2_slots;
      c.bits = widths[i];
      c.classifier = std::move(models[i]);
      c.min_front_eighths = ngram_front;
      candidates.push_back(std::move(c));
    }
  }
  const uint64_t span = mapped_.back() - mapped_.front();
  for (double cells_per_key : {0.125, 0.25, 0.5, 1.0, 2.0}) {
    const double want = std::max(1.0, static_cast<double>(n_) * cells_per_key);
    int shift = 0;
    while (shift < 63 && static_cast<double>(span >> shift) + 1 > want) ++shift;
    std::vector<int> widths;
    for (int class_bits : {1, 2, 4}) {
      if (GridClassifier::EstimateBytes(mapper_, span, shift, class_bits) <= model_budget) {
        widths.push_back(class_bits);
      }
    }
    if (widths.empty()) continue;
    for (auto& model : GridClassifier::Train(mapper_, mapped_, mapped_fit_, shift, widths)) {
      std::shared_ptr<const GridClassifier> grid = std::move(model);
      Candidate c;
      c.grid = grid.get();
      c.classifier = std::move(grid);
      candidates.push_back(std::move(c));
    }
  }
  if (candidates.empty()) {
    Reason("the table is too small for a model");
    return candidates;
  }

  // Score the sample and the calibration negatives, and plan for the whole table.
  std::vector<Candidate> passed;
  std::vector<int32_t> key_scores(sample_.size()), cal_scores(split_.calibration.size());
  std::vector<int32_t> heldout_scores(split_.heldout.keys.size());
  for (Candidate& c : candidates) {
    for (size_t i = 0; i < sample_.size(); ++i) {
      key_scores[i] = c.grid != nullptr ? c.grid->ScoreMapped(mapped_[sample_index_[i]])
                                        : c.classifier->Score(sample_[i]);
    }
    for (size_t i = 0; i < cal_scores.size(); ++i) {
      cal_scores[i] = c.grid != nullptr ? c.grid->ScoreMapped(mapped_cal_[i])
                                        : c.classifier->Score(split_.calibration[i]);
    }
    SortScores(&key_scores);
    SortScores(&cal_scores);
    double fpr, fnr;
    BestThresholdRates(key_scores, cal_scores, &fpr, &fnr);
    if (!BeatsChance(fpr, fnr, cal_scores.size(), key_scores.size())) {
      Reason(kNoBetterThanChance);
      continue;
    }
    PlanOptions plan_options;
    plan_options.target_fpr = target_;
    plan_options.min_front_eighths = c.min_front_eighths;
    plan_options.num_keys = n_;
    RegionPlan plan = PlanRegions(key_scores, cal_scores, plan_options);
    if (!plan.feasible) {
      Reason(kNoPlan);
      continue;
    }
    // As the full stage will: a layout planned on the calibration negatives must meet the
    // target in expectation on the held-out ones, else it is re-planned for a lower target.
    for (size_t i = 0; i < heldout_scores.size(); ++i) {
      heldout_scores[i] = c.grid != nullptr ? c.grid->ScoreMapped(mapped_heldout_[i])
                                            : c.classifier->Score(split_.heldout.keys[i]);
    }
    for (int replans = 0;; ++replans) {
      double se = 0;
      const double fpr = ExpectedFpr(split_.heldout, heldout_scores, plan, plan.eighths, &se);
      if (fpr + se <= target_) break;
      if (replans == kExpectedReplans) {
        plan.feasible = false;
        break;
      }
      plan_options.target_fpr = LowerTarget(plan_options.target_fpr, target_, fpr + se);
      plan = PlanRegions(key_scores, cal_scores, plan_options);
      if (!plan.feasible) break;
    }
    if (!plan.feasible) {
      Reason(kMissedTarget);
      continue;
    }
    c.estimate = c.classifier->EncodedBytes() + plan.filter_bytes;
    passed.push_back(std::move(c));
  }
  std::stable_sort(passed.begin(), passed.end(),
                   [](const Candidate& a, const Candidate& b) { return a.estimate < b.estimate; });
  return passed;
}

std::shared_ptr<const FilterClassifier> Search::FullNgram(const Candidate& c) {
  if (screen_is_full_) return c.classifier;
  auto it = full_ngrams_.find(c.log2_slots);
  if (it == full_ngrams_.end()) {
    // The keys a full training takes: evenly spread, as NgramClassifier::Train would pick
    // them from all keys.
    const size_t want = std::min(n_, NgramTrainOptions().max_samples_per_class);
    std::string bytes;
    std::vector<size_t> ends;
    ends.reserve(want);
    PackedKeys::Cursor cursor(keys_);
    size_t next = 0;
    for (size_t i = 0; next < want && cursor.Next(); ++i) {
      if (i != next * n_ / want) continue;
      bytes.append(cursor.key().data(), cursor.key().size());
      ends.push_back(bytes.size());
      ++next;
    }
    std::vector<Slice> positives;
    positives.reserve(ends.size());
    for (size_t i = 0; i < ends.size(); ++i) {
      const size_t begin = i == 0 ? 0 : ends[i - 1];
      positives.emplace_back(bytes.data() + begin, ends[i] - begin);
    }
    NgramTrainOptions train;
    train.log2_slots = c.log2_slots;
    it = full_ngrams_
             .emplace(c.log2_slots, NgramClassifier::Train(positives, split_.fit, train,
                                                           {WeightBits::k8, WeightBits::k4}))
             .first;
  }
  std::unique_ptr<NgramClassifier>& model = it->second[c.bits == WeightBits::k8 ? 0 : 1];
  // Shared from here on (a width may be a finalist once only).
  return std::shared_ptr<const FilterClassifier>(std::move(model));
}

// Sizes f's plan as it would be built, and re-plans it for a lower target while its expected
// rate on the held-out negatives lies so far above the target (two standard errors) that the
// built filter's measured rate would all but surely miss it too: such a build would only be
// measured to be re-planned. False if no plan is left.
bool Search::Settle(Finalist* f) {
  for (int replans = 0;; ++replans) {
    f->predicted = LearnedFilter::PredictBytes(*f->classifier, f->plan, f->key_scores, size_codes_,
                                               &f->widths);
    double se = 0;
    const double fpr = ExpectedFpr(split_.heldout, f->heldout_scores, f->plan, f->widths, &se);
    if (fpr - 2 * se <= target_) return true;
    if (replans == kExpectedReplans) return false;
    f->plan_target = LowerTarget(f->plan_target, target_, fpr + se);
    PlanOptions plan_options;
    plan_options.target_fpr = f->plan_target;
    plan_options.min_front_eighths = f->min_front_eighths;
    f->plan = PlanRegions(f->sorted_keys, f->cal_scores, plan_options);
    if (!f->plan.feasible) return false;
  }
}

// Trains c at full size where the screen's was smaller, scores every key, applies the FPR +
// FNR rule and plans and sizes its layout. False (with the reason) if it is of no use.
bool Search::Finalize(const Candidate& c, Finalist* f) {
  f->classifier = c.grid != nullptr ? c.classifier : FullNgram(c);
  f->min_front_eighths = c.min_front_eighths;
  const FilterClassifier& model = *f->classifier;
  // Every key scored with the very code readers run (a grid maps the key, as Score does):
  // the scores decide which filter holds each key.
  f->key_scores.resize(n_);
  PackedKeys::Cursor cursor(keys_);
  for (size_t i = 0; i < n_ && cursor.Next(); ++i) f->key_scores[i] = model.Score(cursor.key());
  f->cal_scores.resize(split_.calibration.size());
  for (size_t i = 0; i < f->cal_scores.size(); ++i) {
    f->cal_scores[i] = c.grid != nullptr ? c.grid->ScoreMapped(mapped_cal_[i])
                                         : model.Score(split_.calibration[i]);
  }
  SortScores(&f->cal_scores);
  f->sorted_keys = f->key_scores;
  SortScores(&f->sorted_keys);
  BestThresholdRates(f->sorted_keys, f->cal_scores, &f->model_fpr, &f->model_fnr);
  if (!BeatsChance(f->model_fpr, f->model_fnr, f->cal_scores.size(), n_)) {
    Reason(kNoBetterThanChance);
    return false;
  }
  f->plan_target = target_;
  PlanOptions plan_options;
  plan_options.target_fpr = target_;
  plan_options.min_front_eighths = f->min_front_eighths;
  f->plan = PlanRegions(f->sorted_keys, f->cal_scores, plan_options);
  if (!f->plan.feasible) {
    Reason(kNoPlan);
    return false;
  }
  const std::vector<Slice>& heldout = split_.heldout.keys;
  f->heldout_scores.resize(heldout.size());
  for (size_t i = 0; i < heldout.size(); ++i) f->heldout_scores[i] = model.Score(heldout[i]);
  if (!Settle(f)) {
    Reason(kMissedTarget);
    return false;
  }
  return true;
}

LearnedSearchResult Search::Run() {
  LearnedSearchResult result;
  SampleKeys();
  MapKeys();
  std::vector<Candidate> passed = Screen();
  if (passed.empty()) {
    result.why_not = why_not_;
    return result;
  }
  const double best_estimate = static_cast<double>(passed.front().estimate);
  const double screen_limit = static_cast<double>(limit_bytes_) * (1 + kScreenSlack);
  if (best_estimate >= screen_limit) {
    result.why_not = Format(
        "screened out: the smallest learned estimate, %.0f bytes, saves too little on classic "
        "%.0f bytes",
        best_estimate, static_cast<double>(classic_bytes_));
    return result;
  }
  // The screen's sample is done with.
  std::string().swap(sample_bytes_);
  std::vector<Slice>().swap(sample_);
  std::vector<size_t>().swap(sample_index_);
  std::vector<uint64_t>().swap(mapped_);
  std::vector<uint64_t>().swap(mapped_fit_);
  std::vector<uint64_t>().swap(mapped_heldout_);

  size_codes_ = LearnedFilter::SizeCodes(hashes_);
  std::vector<Finalist> finalists;
  for (size_t i = 0; i < passed.size() && i < kFinalists; ++i) {
    if (static_cast<double>(passed[i].estimate) >= screen_limit) break;
    Finalist f;
    if (Finalize(passed[i], &f)) finalists.push_back(std::move(f));
  }

  // Smallest first: build, measure, and keep the first that meets the target (the others,
  // already as large or larger, and only growing when re-planned, cannot be smaller).
  std::vector<bool> alive(finalists.size(), true);
  for (;;) {
    size_t pick = finalists.size();
    for (size_t i = 0; i < finalists.size(); ++i) {
      if (alive[i] &&
          (pick == finalists.size() || finalists[i].predicted < finalists[pick].predicted)) {
        pick = i;
      }
    }
    if (pick == finalists.size()) break;
    Finalist& f = finalists[pick];
    if (f.predicted >= limit_bytes_) {
      result.planned_bytes = f.predicted;
      break;
    }
    LearnedFilter filter = LearnedFilter::Build(f.classifier, f.plan, hashes_, f.key_scores);
    double se = 0;
    const Heldout& heldout = split_.heldout;
    const double fpr = HeldoutFpr(
        heldout,
        [&](size_t i) {
          const Slice& k = heldout.keys[i];
          return filter.MayContain(k, FilterKeyHash(k)) ? 1.0 : 0.0;
        },
        &se);
    // The rate must hold with one standard error to spare: the smallest of several candidates
    // that pass is otherwise an optimistic pick.
    if (fpr + se <= target_) {
      filter.EncodeTo(&result.payload);
      result.filter = std::move(filter);
      result.found = true;
      result.measured_fpr = fpr;
      result.model_fpr = f.model_fpr;
      result.model_fnr = f.model_fnr;
      result.model_bytes = f.classifier->EncodedBytes();
      return result;
    }
    if (f.measured_replans == kMeasuredReplans) {
      alive[pick] = false;
      Reason(kMissedTarget);
      continue;
    }
    ++f.measured_replans;
    f.plan_target = LowerTarget(f.plan_target, target_, fpr + se);
    PlanOptions plan_options;
    plan_options.target_fpr = f.plan_target;
    plan_options.min_front_eighths = f.min_front_eighths;
    f.plan = PlanRegions(f.sorted_keys, f.cal_scores, plan_options);
    if (!f.plan.feasible || !Settle(&f)) {
      alive[pick] = false;
      Reason(kMissedTarget);
    }
  }
  result.why_not = why_not_.empty() ? kMissedTarget : why_not_;
  return result;
}

}  // namespace

LearnedSearchResult SearchLearnedFilter(const FilterOptions& options, double target,
                                        const PackedKeys& keys, const std::vector<uint64_t>& hashes,
                                        const NegativeSplit& split, size_t classic_bytes,
                                        size_t limit_bytes) {
  Search search(options, target, keys, hashes, split, classic_bytes, limit_bytes);
  return search.Run();
}

}  // namespace learnkv
