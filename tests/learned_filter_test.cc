// Tests of the learned filter (learned/filter_learned.h, learned/filter_classifier.h) and the
// build-time choice (learned/filter_policy.h) on the filter data sets
// (learned/filter_datasets.h): never a false negative for any data set and filter type, the
// false-positive rate on fresh negatives within the target, the classic filter chosen where no
// model can help, and serialization that round-trips and rejects damage.
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "learned/filter_classifier.h"
#include "learned/filter_datasets.h"
#include "learned/filter_learned.h"
#include "learned/filter_policy.h"
#include "learned/filter_search.h"
#include "util/random.h"

namespace learnkv {
namespace {

struct Built {
  std::unique_ptr<Filter> filter;
  FilterReport report;
  std::string block;
};

Built Build(const FilterData& data, FilterType type, double target = 0.01,
            size_t max_negatives = 100000) {
  FilterOptions options;
  options.type = type;
  options.target_fpr = target;
  options.max_negatives = max_negatives;
  options.negatives = NewVectorNegativeSource(data.train_negatives);
  FilterBuilder builder(options);
  for (const std::string& k : data.keys) builder.AddKey(k);
  Built b;
  builder.Finish(&b.block, &b.report);
  EXPECT_TRUE(Filter::DecodeFrom(b.block, &b.filter).ok());
  return b;
}

double TestFpr(const Filter& f, const FilterData& data) {
  size_t hits = 0;
  for (const std::string& k : data.test_negatives) hits += f.KeyMayMatch(k) ? 1 : 0;
  return static_cast<double>(hits) / static_cast<double>(data.test_negatives.size());
}

// The measured rate may exceed the target only by sampling noise: three standard errors, with
// the distinct negatives as the sampling units (a key asked for many times is one draw of the
// filter's hash, however often it is counted).
double Allowed(double target, const std::vector<std::string>& negatives) {
  std::map<std::string, double> counts;
  for (const std::string& k : negatives) counts[k] += 1;
  double sum_sq = 0;
  for (const auto& [k, c] : counts) sum_sq += c * c;
  const double m = static_cast<double>(negatives.size());
  const double effective = m * m / sum_sq;
  return target + 3 * std::sqrt(target * (1 - target) / effective);
}

struct Case {
  const char* name;
  FilterDataset dataset;
  double separability;
  bool system_lists;
};

class LearnedFilterData : public testing::TestWithParam<Case> {
 protected:
  static FilterData Make(const Case& c) {
    FilterDatasetOptions o;
    o.num_keys = c.dataset == FilterDataset::kUrl ? 30000 : 40000;
    o.num_negatives = 30000;
    o.separability = c.separability;
    o.system_lists = c.system_lists;
    return MakeFilterData(c.dataset, o);
  }
};

TEST_P(LearnedFilterData, NoFalseNegativesAndRateWithinTarget) {
  const FilterData data = Make(GetParam());
  ASSERT_GT(data.keys.size(), 10000u);
  ASSERT_EQ(data.test_negatives.size(), 30000u);
  for (FilterType type :
       {FilterType::kBloom, FilterType::kFuse, FilterType::kAuto, FilterType::kLearned}) {
    for (double target : {0.01, 0.05}) {
      const Built b = Build(data, type, target);
      ASSERT_NE(b.filter, nullptr);
      for (const std::string& k : data.keys) {
        ASSERT_TRUE(b.filter->KeyMayMatch(k))
            << "false negative for " << k << " (" << FilterTypeName(type) << ", " << b.report.kind
            << ")";
      }
      const double fpr = TestFpr(*b.filter, data);
      EXPECT_LE(fpr, Allowed(target, data.test_negatives))
          << FilterTypeName(type) << " built " << b.report.kind << " at " << target;
      EXPECT_EQ(b.report.num_keys, data.keys.size());
      EXPECT_EQ(b.report.bytes, b.block.size());
      if (type == FilterType::kBloom) {
        EXPECT_EQ(b.report.kind, "bloom");
      } else if (type == FilterType::kFuse) {
        EXPECT_EQ(b.report.kind, "fuse");
      }
      if (b.report.kind == "learned") {
        EXPECT_LE(b.report.measured_fpr, target);
        EXPECT_LT(b.report.model_fpr + b.report.model_fnr, 1.0);
        EXPECT_GT(b.report.heldout_negatives, 0u);
      }
      if (type == FilterType::kAuto) {
        // The choice never keeps a larger filter than the classic one (the block adds a few
        // header bytes to the filter's own encoding).
        EXPECT_LE(b.report.bytes, b.report.classic_bytes + 16);
        if (b.report.kind == "learned") {
          EXPECT_LT(b.report.learned_bytes, 0.95 * b.report.classic_bytes);
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(All, LearnedFilterData,
                         testing::Values(Case{"url", FilterDataset::kUrl, 0.95, true},
                                         Case{"url_generated", FilterDataset::kUrl, 1.0, false},
                                         Case{"url_lookalikes", FilterDataset::kUrl, 0.5, true},
                                         Case{"id_gaps", FilterDataset::kIdGaps, 0.9, true},
                                         Case{"id_holes", FilterDataset::kIdGaps, 0.2, true},
                                         Case{"ycsb", FilterDataset::kYcsb, 1.0, true}),
                         [](const testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.name);
                         });

TEST(LearnedFilterChoice, LearnedWinsWhereKeysAreLearnable) {
  FilterDatasetOptions o;
  o.num_keys = 50000;
  o.num_negatives = 30000;
  const Built ids = Build(MakeFilterData(FilterDataset::kIdGaps, o), FilterType::kAuto);
  EXPECT_EQ(ids.report.kind, "learned") << ids.report.reason;
  EXPECT_LT(ids.report.bits_per_key, 5.0);
  EXPECT_LT(ids.report.learned_bytes, ids.report.classic_bytes);
  EXPECT_NE(ids.report.detail.find("grid"), std::string::npos) << ids.report.detail;

  o.num_keys = 0;
  o.separability = 1.0;
  o.system_lists = false;  // the generated lists: the test must not depend on packages
  const Built urls = Build(MakeFilterData(FilterDataset::kUrl, o), FilterType::kAuto);
  EXPECT_EQ(urls.report.kind, "learned") << urls.report.reason;
  EXPECT_LT(urls.report.learned_bytes, urls.report.classic_bytes);
}

TEST(LearnedFilterChoice, ClassicOnRandomKeys) {
  FilterDatasetOptions o;
  o.num_keys = 50000;
  o.num_negatives = 30000;
  const FilterData data = MakeFilterData(FilterDataset::kYcsb, o);
  const Built b = Build(data, FilterType::kAuto);
  EXPECT_EQ(b.report.kind, "fuse") << b.report.reason;
  // Within 3% of the classic filter alone (it is the classic filter).
  const Built classic = Build(data, FilterType::kFuse);
  EXPECT_LE(b.report.bytes, 1.03 * classic.report.bytes);
}

// The screen on a sample of keys only ever ends a search early: with it and without it
// (screen_keys 0: every candidate trained and sized in full) the same kind is chosen, at
// about the same size; and the classic size the choice compares with, known before the
// classic filter is built, is the size it has when built.
TEST(LearnedFilterChoice, ScreenKeepsTheChoice) {
  FilterDatasetOptions o;
  o.num_keys = 50000;
  o.num_negatives = 30000;
  o.system_lists = false;
  struct Set {
    const char* name;
    FilterData data;
  };
  std::vector<Set> sets;
  sets.push_back({"id_gaps", MakeFilterData(FilterDataset::kIdGaps, o)});
  sets.push_back({"ycsb", MakeFilterData(FilterDataset::kYcsb, o)});
  o.separability = 1.0;
  sets.push_back({"url", MakeFilterData(FilterDataset::kUrl, o)});
  o.separability = 0.5;
  sets.push_back({"url_lookalikes", MakeFilterData(FilterDataset::kUrl, o)});
  for (const Set& set : sets) {
    FilterOptions options;
    options.negatives = NewVectorNegativeSource(set.data.train_negatives);
    auto build = [&](size_t screen_keys, FilterType type) {
      options.screen_keys = screen_keys;
      options.type = type;
      FilterBuilder builder(options);
      for (const std::string& k : set.data.keys) builder.AddKey(k);
      Built b;
      builder.Finish(&b.block, &b.report);
      EXPECT_TRUE(Filter::DecodeFrom(b.block, &b.filter).ok());
      return b;
    };
    const Built screened = build(FilterOptions().screen_keys, FilterType::kAuto);
    const Built full = build(0, FilterType::kAuto);
    EXPECT_EQ(screened.report.kind, full.report.kind)
        << set.name << ": " << screened.report.reason << " / " << full.report.reason;
    EXPECT_NEAR(static_cast<double>(screened.report.bytes), static_cast<double>(full.report.bytes),
                0.05 * static_cast<double>(full.report.bytes))
        << set.name;
    for (const std::string& k : set.data.keys) ASSERT_TRUE(screened.filter->KeyMayMatch(k));
    const Built fuse = build(0, FilterType::kFuse);
    EXPECT_EQ(screened.report.classic_bytes, fuse.report.classic_bytes) << set.name;
    EXPECT_EQ(full.report.classic_bytes, fuse.report.classic_bytes) << set.name;
    if (std::string(set.name) == "ycsb") {
      // Random keys: the screen alone decides.
      EXPECT_NE(screened.report.reason.find("screened out"), std::string::npos)
          << screened.report.reason;
    }
  }
}

TEST(LearnedFilterChoice, TooFewNegativesMeansClassic) {
  FilterDatasetOptions o;
  o.num_keys = 20000;
  o.num_negatives = 500;
  const Built b = Build(MakeFilterData(FilterDataset::kIdGaps, o), FilterType::kAuto);
  EXPECT_EQ(b.report.kind, "fuse");
  EXPECT_NE(b.report.reason.find("negatives in the key range"), std::string::npos)
      << b.report.reason;
}

TEST(LearnedFilterChoice, ChanceLevelClassifierIsNeverUsed) {
  // Scores that do not separate: FPR + FNR >= 1 at every threshold.
  std::vector<int32_t> keys, negs;
  for (int i = 0; i < 1000; ++i) {
    keys.push_back(i % 10);
    negs.push_back(i % 10);
  }
  double fpr, fnr;
  BestThresholdRates(keys, negs, &fpr, &fnr);
  EXPECT_GE(fpr + fnr, 1.0 - 1e-12);
  // And ones that do.
  for (int32_t& s : negs) s -= 5;
  BestThresholdRates(keys, negs, &fpr, &fnr);
  EXPECT_NEAR(fpr + fnr, 0.5, 1e-9);
  // End to end: with negatives drawn from the keys' own distribution no model beats chance
  // by more than noise, so kAuto keeps the classic filter.
  FilterDatasetOptions o;
  o.num_keys = 20000;
  o.num_negatives = 20000;
  const FilterData data = MakeFilterData(FilterDataset::kYcsb, o);
  EXPECT_NE(Build(data, FilterType::kAuto).report.kind, "learned");
}

TEST(Sandwich, ClosedFormMatchesSearch) {
  // Mitzenmacher's optimal backup rate, against a direct search over (front, backup) bits for
  // Bloom-like filters with rate 2^-bits: minimize bits(front) + fn * bits(backup) at a fixed
  // total rate front_rate * (fp + (1 - fp) backup_rate).
  const double fp = 0.1, fn = 0.3, target = 0.005;
  const double closed = SandwichBackupFpr(fp, fn);
  double best_cost = 1e9, best_backup = 1;
  for (double b = 0; b <= 20; b += 0.001) {
    const double backup = std::exp2(-b);
    const double front = target / (fp + (1 - fp) * backup);
    if (front > 1) continue;
    const double cost = -std::log2(front) + fn * b;
    if (cost < best_cost) {
      best_cost = cost;
      best_backup = backup;
    }
  }
  EXPECT_NEAR(closed, best_backup, 0.01 * closed);
  EXPECT_EQ(SandwichBackupFpr(0.6, 0.4), 1.0);  // fp + fn >= 1: no use
  EXPECT_EQ(SandwichBackupFpr(0.1, 0.0), 0.0);
}

TEST(LearnedFilter, PlanRejectsOnlyEmptyRegionsAndMeetsTheEstimate) {
  std::vector<int32_t> keys, negs;
  for (int i = 0; i < 20000; ++i) keys.push_back(100 + i % 200);  // keys score 100..299
  for (int i = 0; i < 20000; ++i) negs.push_back(i % 400);        // negatives 0..399
  PlanOptions options;
  options.target_fpr = 0.01;
  const RegionPlan plan = PlanRegions(keys, negs, options);
  ASSERT_TRUE(plan.feasible);
  EXPECT_LE(plan.fpr, 0.01);
  EXPECT_EQ(plan.eighths.size(), plan.thresholds.size() + 1);
  // Scores below 100 and above 299 hold no key: rejected regions.
  EXPECT_EQ(plan.eighths.front(), RegionPlan::kReject);
  EXPECT_EQ(plan.eighths.back(), RegionPlan::kReject);
  EXPECT_EQ(plan.thresholds.front(), 100);
  EXPECT_EQ(plan.thresholds.back(), 300);
}

TEST(LearnedFilter, SortScoresSortsSmallAndLargeSets) {
  Random rnd(11);
  for (size_t n : {0, 1, 100, 5000, 100000}) {
    std::vector<int32_t> v(n);
    for (int32_t& x : v) {
      // Full range, and many repeats of a few small values.
      x = rnd.OneIn(2) ? static_cast<int32_t>(rnd.Next())
                       : static_cast<int32_t>(rnd.Uniform(9)) - 4;
    }
    if (n > 2) {
      v[0] = INT32_MIN;
      v[1] = INT32_MAX;
    }
    std::vector<int32_t> expect = v;
    std::sort(expect.begin(), expect.end());
    SortScores(&v);
    EXPECT_EQ(v, expect) << n;
  }
}

// Plans from a sample of the key scores, sized for the whole table, cost what plans from
// every score do.
TEST(LearnedFilter, PlanFromASampleSizesTheWholeTable) {
  std::vector<int32_t> keys, sample, negs;
  Random rnd(7);
  for (int i = 0; i < 200000; ++i) keys.push_back(static_cast<int32_t>(rnd.Uniform(1000)) + 300);
  for (size_t i = 0; i < keys.size(); i += 10) sample.push_back(keys[i]);
  for (int i = 0; i < 30000; ++i) negs.push_back(static_cast<int32_t>(rnd.Uniform(1000)));
  for (int front : {0, 12}) {
    PlanOptions options;
    options.target_fpr = 0.01;
    options.min_front_eighths = front;
    const RegionPlan whole = PlanRegions(keys, negs, options);
    options.num_keys = keys.size();
    const RegionPlan sampled = PlanRegions(sample, negs, options);
    ASSERT_TRUE(whole.feasible);
    ASSERT_TRUE(sampled.feasible);
    EXPECT_NEAR(static_cast<double>(sampled.filter_bytes), static_cast<double>(whole.filter_bytes),
                0.03 * whole.filter_bytes)
        << front;
  }
}

// PredictBytes is the size of what Build builds, including a planned rejection of a region
// that holds keys after all (built as one that accepts).
TEST(LearnedFilter, PredictedSizeIsTheBuiltSize) {
  Random rnd(3);
  const size_t n = 60000;
  std::vector<uint64_t> hashes(n), mapped(n);
  std::vector<int32_t> scores(n), negs;
  for (size_t i = 0; i < n; ++i) {
    hashes[i] = rnd.Next64();
    mapped[i] = 1000 + 2 * i;
    scores[i] = static_cast<int32_t>(rnd.Uniform(400)) + 100;
  }
  scores[n / 2 + 1] = 5000;  // one key the sample below misses
  for (int i = 0; i < 20000; ++i) negs.push_back(static_cast<int32_t>(rnd.Uniform(700)));
  std::vector<int32_t> sample;
  for (size_t i = 0; i < n; i += 16) sample.push_back(scores[i]);
  const std::shared_ptr<const FilterClassifier> classifier =
      GridClassifier::Train(KeyMapper(), mapped, {}, 4, 2);
  const std::vector<uint8_t> codes = LearnedFilter::SizeCodes(hashes);
  for (const std::vector<int32_t>* planned : {&scores, &sample}) {
    for (int front : {0, 12}) {
      for (double target : {0.01, 0.05}) {
        PlanOptions options;
        options.target_fpr = target;
        options.min_front_eighths = front;
        options.num_keys = n;
        const RegionPlan plan = PlanRegions(*planned, negs, options);
        ASSERT_TRUE(plan.feasible);
        std::vector<int> widths;
        const size_t predicted =
            LearnedFilter::PredictBytes(*classifier, plan, scores, codes, &widths);
        const LearnedFilter f = LearnedFilter::Build(classifier, plan, hashes, scores);
        std::string enc;
        f.EncodeTo(&enc);
        EXPECT_EQ(predicted, enc.size()) << front << " " << target;
        ASSERT_EQ(widths.size(), f.num_regions());
        for (size_t r = 0; r < widths.size(); ++r) EXPECT_EQ(widths[r], f.RegionEighths(r));
        EXPECT_NE(f.RegionEighths(f.RegionOf(5000)), RegionPlan::kReject);
      }
    }
  }
}

TEST(LearnedFilter, SerializationRoundTripsAndDamageIsCorruption) {
  FilterDatasetOptions o;
  o.num_keys = 3000;
  o.num_negatives = 5000;
  const FilterData data = MakeFilterData(FilterDataset::kIdGaps, o);
  FilterOptions options;
  options.type = FilterType::kLearned;
  options.negatives = NewVectorNegativeSource(data.train_negatives);
  FilterBuilder builder(options);
  for (const std::string& k : data.keys) builder.AddKey(k);
  std::string block;
  FilterReport report;
  builder.Finish(&block, &report);
  ASSERT_EQ(report.kind, "learned") << report.reason;
  std::unique_ptr<Filter> f;
  ASSERT_TRUE(Filter::DecodeFrom(block, &f).ok());
  ASSERT_NE(f->learned(), nullptr);
  std::string again;
  f->learned()->EncodeTo(&again);
  std::string reencoded;
  EncodeFilterBlock(FilterKind::kLearned, data.keys.size(), again, &reencoded);
  EXPECT_EQ(reencoded, block);
  for (const std::string& k : data.keys) ASSERT_TRUE(f->KeyMayMatch(k));
  // Every flipped byte, every truncation.
  for (size_t i = 0; i < block.size(); ++i) {
    std::string damaged = block;
    damaged[i] ^= static_cast<char>(0x10);
    EXPECT_TRUE(Filter::DecodeFrom(damaged, &f).IsCorruption()) << i;
  }
  for (size_t len = 0; len < block.size(); len += 3) {
    EXPECT_TRUE(Filter::DecodeFrom(Slice(block.data(), len), &f).IsCorruption()) << len;
  }
  // The payload decoder rejects truncation by itself too (no checksum to lean on).
  for (size_t len = 0; len < again.size(); len += 5) {
    LearnedFilter g;
    Slice in(again.data(), len);
    EXPECT_TRUE(LearnedFilter::DecodeFrom(&in, &g).IsCorruption()) << len;
  }
}

// Grids of several class widths trained together are the grids trained one by one.
TEST(Classifiers, GridWidthsTrainedTogetherEqualOneByOne) {
  Random rnd(5);
  std::vector<uint64_t> mapped, negatives;
  uint64_t x = 1 << 20;
  for (int i = 0; i < 20000; ++i) {
    x += rnd.OneIn(4) ? rnd.Uniform(64) : 1;  // runs with gaps
    mapped.push_back(x);
  }
  for (int i = 0; i < 8000; ++i) negatives.push_back((1 << 20) + rnd.Uniform64(x - (1 << 20)));
  for (int shift : {0, 3, 8}) {
    const auto together = GridClassifier::Train(KeyMapper(), mapped, negatives, shift, {1, 2, 4});
    ASSERT_EQ(together.size(), 3u);
    for (size_t i = 0; i < together.size(); ++i) {
      const auto alone = GridClassifier::Train(KeyMapper(), mapped, negatives, shift, 1 << i);
      std::string a, b;
      together[i]->EncodeTo(&a);
      alone->EncodeTo(&b);
      EXPECT_EQ(a, b) << shift << " " << (1 << i);
    }
  }
}

// The classes of a grid, against a direct reading of their definition: 0 for empty cells,
// the top class for full ones (2 and 4 bits), and the partly full cells in equal shares of
// keys over the classes between, ranked by (negatives + 1/2) / keys, ties in cell order.
TEST(Classifiers, GridClassesAsDefined) {
  Random rnd(9);
  std::vector<uint64_t> mapped, negatives;
  uint64_t x = 5000;
  for (int i = 0; i < 30000; ++i) {
    x += rnd.OneIn(8) ? 1 + rnd.Uniform(40) : 1;
    mapped.push_back(x);
  }
  const uint64_t base = mapped.front(), span = mapped.back() - base;
  // Negatives in a few hot spots (many per cell) and spread thinly (most cells see none).
  for (int i = 0; i < 3000; ++i) negatives.push_back(base + rnd.Uniform64(span + 1));
  for (int i = 0; i < 3000; ++i) negatives.push_back(base + 100 * rnd.Uniform(20));
  for (int shift : {0, 2, 5}) {
    struct Cell {
      uint64_t keys = 0, negatives = 0;
      std::set<uint64_t> values;
    };
    std::map<uint64_t, Cell> cells;
    for (uint64_t v : mapped) {
      Cell& c = cells[(v - base) >> shift];
      c.keys++;
      c.values.insert(v);
    }
    for (uint64_t v : negatives) {
      auto it = cells.find((v - base) >> shift);
      if (it != cells.end()) it->second.negatives++;
    }
    const auto grids = GridClassifier::Train(KeyMapper(), mapped, negatives, shift, {1, 2, 4});
    ASSERT_EQ(grids.size(), 3u);
    for (int i = 0; i < 3; ++i) {
      const int bits = 1 << i;
      const int top = (1 << bits) - 1;
      std::map<uint64_t, int> expect;
      std::vector<std::pair<double, uint64_t>> partial;
      uint64_t partial_keys = 0;
      for (const auto& [id, c] : cells) {
        const uint64_t first = id << shift;
        const uint64_t last = std::min(first + (uint64_t{1} << shift) - 1, span);
        const bool full = c.values.size() == last - first + 1;
        expect[id] = top;
        if (bits > 1 && !full) {
          partial.emplace_back((static_cast<double>(c.negatives) + 0.5) / c.keys, id);
          partial_keys += c.keys;
        }
      }
      std::sort(partial.begin(), partial.end());
      uint64_t before = 0;
      for (const auto& [ratio, id] : partial) {
        expect[id] = (top - 1) - static_cast<int>(before * (top - 1) / partial_keys);
        before += cells[id].keys;
      }
      for (uint64_t off = 0; off <= span; ++off) {
        const auto it = expect.find(off >> shift);
        ASSERT_EQ(grids[i]->ScoreMapped(base + off), it == expect.end() ? 0 : it->second)
            << shift << " " << bits << " " << off;
      }
    }
  }
}

// The keys a builder keeps for training, prefix-compressed, read back as they were added.
TEST(PackedKeys, ReadBackInOrder) {
  std::vector<std::string> keys = {"",
                                   "a",
                                   "ab",
                                   "abc",
                                   "abd",
                                   std::string("b\0c", 3),
                                   std::string(300, 'x'),
                                   std::string(300, 'x') + "y",
                                   "z"};
  PackedKeys packed;
  for (const std::string& k : keys) packed.Add(k);
  EXPECT_EQ(packed.size(), keys.size());
  EXPECT_EQ(packed.first().ToString(), keys.front());
  EXPECT_EQ(packed.last().ToString(), keys.back());
  EXPECT_LT(packed.bytes(), 300u + 20u + 2 * keys.size());  // the long keys share their prefix
  PackedKeys::Cursor cursor(packed);
  for (const std::string& k : keys) {
    ASSERT_TRUE(cursor.Next());
    EXPECT_EQ(cursor.key().ToString(), k);
  }
  EXPECT_FALSE(cursor.Next());
  packed.Clear();
  EXPECT_EQ(packed.size(), 0u);
  EXPECT_FALSE(PackedKeys::Cursor(packed).Next());
}

TEST(Classifiers, ScoresSurviveSerialization) {
  FilterDatasetOptions o;
  o.num_keys = 5000;
  o.num_negatives = 5000;
  o.system_lists = false;
  const FilterData data = MakeFilterData(FilterDataset::kUrl, o);
  std::vector<Slice> pos(data.keys.begin(), data.keys.end());
  std::vector<Slice> neg(data.train_negatives.begin(), data.train_negatives.end());
  NgramTrainOptions t;
  t.log2_slots = 10;
  for (auto& c : NgramClassifier::Train(pos, neg, t, {WeightBits::k8, WeightBits::k4})) {
    std::string enc;
    c->EncodeTo(&enc);
    EXPECT_EQ(enc.size(), c->EncodedBytes());
    std::unique_ptr<FilterClassifier> d;
    Slice in(enc);
    ASSERT_TRUE(FilterClassifier::DecodeFrom(&in, &d).ok());
    EXPECT_TRUE(in.empty());
    for (const std::string& k : data.test_negatives) ASSERT_EQ(c->Score(k), d->Score(k));
    // Long keys are scored on their head and tail, and still deterministically.
    const std::string long_key(1000, 'a');
    EXPECT_EQ(c->Score(long_key), d->Score(long_key));
    double fpr, fnr;
    std::vector<int32_t> ks, ns;
    for (const Slice& k : pos) ks.push_back(c->Score(k));
    for (const std::string& k : data.test_negatives) ns.push_back(c->Score(k));
    BestThresholdRates(ks, ns, &fpr, &fnr);
    EXPECT_LT(fpr + fnr, 0.5) << c->Describe();
  }
}

}  // namespace
}  // namespace learnkv
