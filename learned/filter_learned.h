// LearnedFilter: the learned Bloom filter of Kraska et al. ("The Case for Learned Index
// Structures", SIGMOD 2018, section 5) — a classifier whose score decides, backed by classic
// filters over the keys it would miss, so that no key is ever reported absent — in the
// partitioned form of Vaidya et al. ("Partitioned Learned Bloom Filters", ICLR 2021), with an
// optional front filter as in Mitzenmacher's sandwich ("A Model for Learned Bloom Filters and
// Optimizing by Sandwiching", NeurIPS 2018).
//
// A probe of key k with hash h:
//   1. if there is a front filter and it rejects h: absent;
//   2. s = classifier score of k; region i = the number of thresholds <= s;
//   3. region i either rejects (it holds no key), accepts (no filter: every key there is
//      reported present), or asks its own binary fuse filter, whose (fractional) fingerprint
//      width gives the region its own false-positive rate.
// Every key of the table is scored at build time with the very code readers use, and put into
// the filter of its region (regions that reject hold no key by construction), so the filter
// has no false negatives whatever the classifier learned.
//
// PlanRegions chooses the thresholds and widths: it cuts the score range into up to
// max_regions intervals maximizing sum_i K_i log(K_i / N_i) (K_i, N_i: shares of keys and of
// negatives in region i), which is the partition that minimizes the space of the optimal
// region filters (the PLBF objective), by dynamic programming over score bins; then it gives
// fingerprint widths, in eighths of a bit (FractionalFuseFilter), greedily — each step buys
// the largest drop of the false-positive rate per byte — until the estimate meets the target.
// A front filter over all keys is tried at a few widths up to 4 bits, relaxing the target
// behind it by its own rate.
//
// Thread safety: a built or decoded LearnedFilter is immutable; MayContain may be called
// concurrently. Planning and building are single-threaded.
#ifndef LEARNKV_LEARNED_FILTER_LEARNED_H_
#define LEARNKV_LEARNED_FILTER_LEARNED_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "learned/filter_classifier.h"
#include "learned/filter_fuse.h"
#include "learnkv/slice.h"
#include "learnkv/status.h"

namespace learnkv {

// The region layout of a learned filter, and what it is expected to cost.
struct RegionPlan {
  // Region i covers scores [thresholds[i-1], thresholds[i]) (unbounded at the ends).
  std::vector<int32_t> thresholds;
  // Per region: kReject, kAccept, or its filter's width in eighths of a bit (1..128).
  static constexpr int kReject = -1;
  static constexpr int kAccept = 0;
  std::vector<int> eighths;
  int front_eighths = 0;  // 0: no front filter
  // Estimates on the negatives it was planned with: bytes of the filters (the model not
  // included) and false-positive rate.
  size_t filter_bytes = 0;
  double fpr = 1.0;
  bool feasible = false;
};

struct PlanOptions {
  double target_fpr = 0.01;
  int max_regions = 6;
  // Widths (eighths of a bit) the front filter may take: from min to max, in half bits.
  int min_front_eighths = 0;
  int max_front_eighths = 32;
  int score_bins = 96;  // quantile bins the region boundaries are chosen from
  // Keys of the table when key_scores are those of a sample of them (0: key_scores are every
  // key's): the filters are sized for this many keys, spread over the regions as the sample.
  uint64_t num_keys = 0;
};

// Plans regions for a classifier whose scores on the table's keys (or a sample of them, see
// PlanOptions::num_keys) are key_scores and on calibration negatives neg_scores. Either may be
// in any order; sorted ones are used without a copy. REQUIRES: neg_scores non-empty.
RegionPlan PlanRegions(const std::vector<int32_t>& key_scores,
                       const std::vector<int32_t>& neg_scores, const PlanOptions& options);

// Sorts scores ascending (a radix sort for large sets: every key's score is sorted once per
// candidate classifier of a table).
void SortScores(std::vector<int32_t>* scores);

// The classifier's best single threshold t (scores >= t called keys): the false-positive and
// false-negative rates minimizing their sum, over the key and negative scores given (in any
// order; sorted ones are used without a copy). A sum of 1 (e.g. at t = -infinity: fpr 1, fnr
// 0) is what chance achieves.
void BestThresholdRates(const std::vector<int32_t>& key_scores,
                        const std::vector<int32_t>& neg_scores, double* fpr, double* fnr);

// Mitzenmacher's optimal sandwich for a classifier with false-positive rate fp and
// false-negative rate fn at its threshold, with Bloom-like filters whose false-positive rate
// falls as a^bits: the backup filter's false-positive rate is fp / ((1 - fp)(1 / fn - 1)),
// whatever the budget (the rest of the budget goes to the front filter). Values >= 1 mean no
// backup filter pays off; a classifier with fp + fn >= 1 never helps.
double SandwichBackupFpr(double fp, double fn);

class LearnedFilter {
 public:
  LearnedFilter() = default;
  LearnedFilter(LearnedFilter&&) = default;
  LearnedFilter& operator=(LearnedFilter&&) = default;

  // Builds the filter of plan over the keys with hashes[i] and key_scores[i] (the classifier's
  // score of key i). REQUIRES: plan.feasible.
  static LearnedFilter Build(std::shared_ptr<const FilterClassifier> classifier,
                             const RegionPlan& plan, const std::vector<uint64_t>& hashes,
                             const std::vector<int32_t>& key_scores);

  // Per key hash, what decides the sizes of the fuse filters it would go to (the fractional
  // split of its region's filter and of the front filter), for PredictBytes.
  static std::vector<uint8_t> SizeCodes(const std::vector<uint64_t>& hashes);
  // Bytes of EncodeTo's output for Build(classifier, plan, hashes, key_scores), without
  // building it (size_codes: SizeCodes(hashes)): exact unless a fuse filter grows in its
  // build (FractionalFuseFilter::EncodedBytes), which only makes it larger. When given,
  // *widths receives each region's width as built (a planned rejection of a region that holds
  // keys is built as kAccept). REQUIRES: plan.feasible.
  static size_t PredictBytes(const FilterClassifier& classifier, const RegionPlan& plan,
                             const std::vector<int32_t>& key_scores,
                             const std::vector<uint8_t>& size_codes,
                             std::vector<int>* widths = nullptr);
  // The region of score under thresholds (RegionPlan::thresholds).
  static size_t RegionOfScore(const std::vector<int32_t>& thresholds, int32_t score) {
    size_t region = 0;
    while (region < thresholds.size() && score >= thresholds[region]) ++region;
    return region;
  }

  // hash: FilterKeyHash(key).
  bool MayContain(const Slice& key, uint64_t hash) const {
    if (front_.eighths() > 0 && !front_.MayContain(FrontHash(hash))) return false;
    const int32_t score = classifier_->Score(key);
    size_t region = 0;
    while (region < thresholds_.size() && score >= thresholds_[region]) ++region;
    const Region& r = regions_[region];
    if (r.eighths < 0) return false;
    return r.filter.MayContain(hash);  // width 0 accepts
  }

  const FilterClassifier& classifier() const { return *classifier_; }
  size_t num_regions() const { return regions_.size(); }
  // The region a score falls in, and that region's width (RegionPlan::eighths).
  size_t RegionOf(int32_t score) const;
  int RegionEighths(size_t region) const { return regions_[region].eighths; }
  int front_eighths() const { return front_.eighths(); }
  size_t MemoryUsage() const;
  // "ngram ...; front 2 bits; regions reject | 6.5 bits | accept", for tools.
  std::string Describe() const;

  // FilterClassifier encoding | front FractionalFuseFilter (width 0: none)
  // | varint32 regions R (1..64) | (R - 1) x fixed32 thresholds (int32, strictly increasing)
  // | R x { u8 0xff (reject) | FractionalFuseFilter (width 0: accept) }
  void EncodeTo(std::string* dst) const;
  static Status DecodeFrom(Slice* input, LearnedFilter* filter);

 private:
  struct Region {
    int eighths = RegionPlan::kReject;
    FractionalFuseFilter filter;
  };
  static uint64_t FrontHash(uint64_t hash) { return Remix64(hash ^ 0x3c6ef372fe94f82bull); }

  std::shared_ptr<const FilterClassifier> classifier_;
  FractionalFuseFilter front_;
  std::vector<int32_t> thresholds_;
  std::vector<Region> regions_;
};

}  // namespace learnkv

#endif  // LEARNKV_LEARNED_FILTER_LEARNED_H_
