// Tests of the RMI's guarantee (learned/rmi.h) on every data set of util/datasets.h and on
// adversarial key sets, under fixed and automatic configurations, plus serialization.
#include "learned/rmi.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "learned/key_mapping.h"
#include "learned/rmi_internal.h"
#include "util/checksum.h"
#include "util/coding.h"
#include "util/datasets.h"

namespace learnkv {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

std::unique_ptr<Rmi> Build(const std::vector<uint64_t>& keys, const RmiOptions& options) {
  RmiBuilder builder(options);
  for (uint64_t x : keys) builder.Add(x);
  return builder.Finish();
}

RmiOptions Options(uint32_t num_leaves, bool auto_root,
                   RmiRootKind kind = RmiRootKind::kLinearSpline) {
  RmiOptions o;
  o.num_leaves = num_leaves;
  o.auto_root = auto_root;
  o.root_kind = kind;
  return o;
}

struct Config {
  std::string name;
  RmiOptions options;
};

std::vector<Config> AllConfigs() {
  RmiOptions big_budget;  // exercises the fine spline and many leaves at moderate sizes
  big_budget.max_bytes_per_key = 2.0;
  std::vector<Config> configs = {{"auto", RmiOptions()},
                                 {"auto_big_budget", big_budget},
                                 {"auto_root_1_leaf", Options(1, true)},
                                 {"auto_root_1000_leaves", Options(1000, true)}};
  for (RmiRootKind kind : {RmiRootKind::kLinear, RmiRootKind::kLinearSpline, RmiRootKind::kRadix}) {
    for (uint32_t leaves : {0u, 1u, 37u, 4096u}) {
      configs.push_back({std::string(RmiRootKindName(kind)) + "_" + std::to_string(leaves),
                         Options(leaves, false, kind)});
    }
  }
  return configs;
}

// Checks lo <= lower_bound(x) <= upper_bound(x) <= hi <= n, and Predict's consistency.
::testing::AssertionResult BoundHolds(const std::vector<uint64_t>& keys, const Rmi& rmi,
                                      uint64_t x) {
  const uint64_t p = std::lower_bound(keys.begin(), keys.end(), x) - keys.begin();
  const uint64_t u = std::upper_bound(keys.begin(), keys.end(), x) - keys.begin();
  const SearchBound b = rmi.Lookup(x);
  if (!(b.lo <= p && u <= b.hi && b.hi <= keys.size())) {
    return ::testing::AssertionFailure()
           << "x=" << x << " bound [" << b.lo << ", " << b.hi << ") lower_bound " << p
           << " upper_bound " << u << " n " << keys.size();
  }
  const ApproxPos a = rmi.Predict(x);
  if (a.bound.lo != b.lo || a.bound.hi != b.hi || a.pos < b.lo || a.pos > b.hi) {
    return ::testing::AssertionFailure() << "x=" << x << " Predict disagrees with Lookup";
  }
  return ::testing::AssertionSuccess();
}

// Every key (as a run of equal values), its neighbours, the extremes, and random values.
void CheckBounds(const std::vector<uint64_t>& keys, const Rmi& rmi, uint64_t seed) {
  ASSERT_EQ(keys.size(), rmi.num_keys());
  const size_t n = keys.size();
  // Neighbour probes for at most ~20k keys, so big sets stay fast.
  const size_t neighbour_stride = std::max<size_t>(1, n / 20000);
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && keys[i] == keys[i - 1]) continue;
    ASSERT_TRUE(BoundHolds(keys, rmi, keys[i]));
    if (i % neighbour_stride != 0) continue;
    if (keys[i] > 0) {
      ASSERT_TRUE(BoundHolds(keys, rmi, keys[i] - 1));
    }
    if (keys[i] < kMax) {
      ASSERT_TRUE(BoundHolds(keys, rmi, keys[i] + 1));
    }
    if (i + 1 < n && keys[i + 1] - keys[i] > 2) {
      ASSERT_TRUE(BoundHolds(keys, rmi, keys[i] + (keys[i + 1] - keys[i]) / 2));
    }
  }
  ASSERT_TRUE(BoundHolds(keys, rmi, 0));
  ASSERT_TRUE(BoundHolds(keys, rmi, kMax));
  std::mt19937_64 rng(seed);
  for (int t = 0; t < 2000; ++t) ASSERT_TRUE(BoundHolds(keys, rmi, rng()));
  if (n > 0) {
    std::uniform_int_distribution<uint64_t> in_range(keys.front(), keys.back());
    for (int t = 0; t < 2000; ++t) ASSERT_TRUE(BoundHolds(keys, rmi, in_range(rng)));
  }
}

void CheckStats(const std::vector<uint64_t>& keys, const Rmi& rmi) {
  const RmiStats& s = rmi.stats();
  EXPECT_EQ(keys.size(), s.num_keys);
  EXPECT_GE(s.num_leaves, 1u);
  EXPECT_LE(s.max_window, keys.size());
  EXPECT_LE(s.max_abs_error, keys.size());
  EXPECT_LE(s.mean_window, static_cast<double>(s.max_window));
  if (!keys.empty()) {
    EXPECT_GE(s.mean_window, 1.0);
  }
  std::string encoded;
  rmi.EncodeTo(&encoded);
  EXPECT_EQ(encoded.size(), s.model_bytes);
  EXPECT_GT(rmi.ApproximateMemoryUsage(), 0u);
}

// Decodes the encoding of rmi and checks that the copy answers identically.
void CheckRoundTrip(const std::vector<uint64_t>& keys, const Rmi& rmi) {
  std::string encoded;
  rmi.EncodeTo(&encoded);
  std::unique_ptr<Rmi> copy;
  const Status s = Rmi::DecodeFrom(encoded, &copy);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::string again;
  copy->EncodeTo(&again);
  ASSERT_EQ(encoded, again);
  EXPECT_EQ(rmi.stats().num_leaves, copy->stats().num_leaves);
  EXPECT_EQ(rmi.stats().root_kind, copy->stats().root_kind);
  EXPECT_EQ(rmi.stats().max_window, copy->stats().max_window);
  EXPECT_DOUBLE_EQ(rmi.stats().mean_window, copy->stats().mean_window);
  std::mt19937_64 rng(7);
  const size_t step = std::max<size_t>(1, keys.size() / 5000);
  for (size_t i = 0; i < keys.size(); i += step) {
    const SearchBound a = rmi.Lookup(keys[i]), b = copy->Lookup(keys[i]);
    ASSERT_EQ(a.lo, b.lo);
    ASSERT_EQ(a.hi, b.hi);
  }
  for (int t = 0; t < 1000; ++t) {
    const uint64_t x = rng();
    ASSERT_EQ(rmi.Lookup(x).lo, copy->Lookup(x).lo);
    ASSERT_EQ(rmi.Lookup(x).hi, copy->Lookup(x).hi);
  }
}

void CheckAll(const std::vector<uint64_t>& keys, uint64_t seed) {
  for (const Config& c : AllConfigs()) {
    SCOPED_TRACE("config " + c.name + ", n=" + std::to_string(keys.size()));
    std::unique_ptr<Rmi> rmi = Build(keys, c.options);
    ASSERT_NO_FATAL_FAILURE(CheckBounds(keys, *rmi, seed));
    ASSERT_NO_FATAL_FAILURE(CheckStats(keys, *rmi));
    ASSERT_NO_FATAL_FAILURE(CheckRoundTrip(keys, *rmi));
    if (!c.options.auto_root && c.options.root_kind != RmiRootKind::kLinearSpline) {
      EXPECT_EQ(c.options.root_kind, rmi->stats().root_kind);
    }
  }
}

// Byte-string keys as a table uses them: map, train, then search real keys in the window.
void CheckStringKeys(Dataset d, const std::vector<std::string>& keys, uint64_t seed) {
  if (keys.empty()) return;
  const KeyMapper mapper = KeyMapper::ForRange(keys.front(), keys.back());
  std::vector<uint64_t> mapped;
  for (const std::string& k : keys) mapped.push_back(mapper.Map(k));
  ASSERT_TRUE(std::is_sorted(mapped.begin(), mapped.end()));
  std::unique_ptr<Rmi> rmi = Build(mapped, RmiOptions());
  auto check = [&](const std::string& k) -> ::testing::AssertionResult {
    const size_t want = std::lower_bound(keys.begin(), keys.end(), k) - keys.begin();
    const SearchBound b = rmi->Lookup(mapper.Map(k));
    const size_t got = std::lower_bound(keys.begin() + b.lo, keys.begin() + b.hi, k) - keys.begin();
    if (got == want) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "key " << Slice(k).ToHex() << " window [" << b.lo
                                         << ", " << b.hi << ") gives " << got << ", want " << want;
  };
  for (const std::string& k : keys) ASSERT_TRUE(check(k));
  for (const std::string& k : GenerateAbsentKeys(d, keys, 2000, seed)) ASSERT_TRUE(check(k));
  ASSERT_TRUE(check(""));
  ASSERT_TRUE(check(std::string(64, '\xff')));
}

class RmiDatasetTest : public ::testing::TestWithParam<Dataset> {};

TEST_P(RmiDatasetTest, BoundsHoldAtEverySize) {
  const Dataset d = GetParam();
  for (size_t n : {0, 1, 2, 100, 10000, 200000}) {
    SCOPED_TRACE(std::string(DatasetName(d)) + " n=" + std::to_string(n));
    const std::vector<std::string> keys = GenerateSortedKeys(d, n, 42 + n);
    const KeyMapper mapper = n > 0 ? KeyMapper::ForRange(keys.front(), keys.back()) : KeyMapper();
    std::vector<uint64_t> mapped;
    for (const std::string& k : keys) mapped.push_back(mapper.Map(k));
    ASSERT_NO_FATAL_FAILURE(CheckAll(mapped, n));
    ASSERT_NO_FATAL_FAILURE(CheckStringKeys(d, keys, n + 1));
  }
}

INSTANTIATE_TEST_SUITE_P(AllDatasets, RmiDatasetTest, ::testing::ValuesIn(AllDatasets()),
                         [](const ::testing::TestParamInfo<Dataset>& info) {
                           return std::string(DatasetName(info.param));
                         });

TEST(RmiTest, EmptyModel) {
  std::unique_ptr<Rmi> rmi = RmiBuilder().Finish();
  EXPECT_EQ(0u, rmi->num_keys());
  for (uint64_t x : {uint64_t{0}, uint64_t{12345}, kMax}) {
    EXPECT_EQ(0u, rmi->Lookup(x).lo);
    EXPECT_EQ(0u, rmi->Lookup(x).hi);
  }
}

TEST(RmiTest, ManyDuplicates) {
  std::mt19937_64 rng(1);
  std::vector<uint64_t> keys;
  uint64_t v = 1000;
  while (keys.size() < 100000) {
    const size_t run = 1 + rng() % (rng() % 4 == 0 ? 1000 : 3);
    keys.insert(keys.end(), run, v);
    v += 1 + rng() % 100000;
  }
  CheckAll(keys, 1);
}

TEST(RmiTest, AllEqualKeys) {
  for (uint64_t value : {uint64_t{0}, uint64_t{77}, kMax}) {
    for (size_t n : {1, 2, 1000, 50000}) CheckAll(std::vector<uint64_t>(n, value), n);
  }
}

TEST(RmiTest, TwoFarClusters) {
  std::vector<uint64_t> keys;
  for (uint64_t i = 0; i < 30000; ++i) keys.push_back(i * 3);
  for (uint64_t i = 0; i < 30000; ++i) keys.push_back(kMax - 90000 + i * 3);
  CheckAll(keys, 2);
}

TEST(RmiTest, ExponentialGaps) {
  std::vector<uint64_t> keys;
  for (int b = 0; b < 64; ++b) {
    for (uint64_t k = 0; k < 500; ++k) keys.push_back((uint64_t{1} << b) + k * (b / 4 + 1));
  }
  std::sort(keys.begin(), keys.end());
  CheckAll(keys, 3);
  std::vector<uint64_t> powers;
  for (int b = 0; b < 64; ++b) powers.push_back(uint64_t{1} << b);
  powers.push_back(kMax);
  CheckAll(powers, 4);
}

TEST(RmiTest, DenseKeysNearTopBit) {
  // Consecutive integers where a double's absolute precision is 2048: keys must be handled
  // relative to a base to keep windows small.
  std::vector<uint64_t> keys;
  for (uint64_t i = 0; i < 100000; ++i) keys.push_back((uint64_t{1} << 63) + 12345 + i);
  CheckAll(keys, 5);
  const std::unique_ptr<Rmi> rmi = Build(keys, RmiOptions());
  EXPECT_LE(rmi->stats().max_window, 4u);
}

TEST(RmiTest, ExtremeValuesAndTinySets) {
  CheckAll({0}, 6);
  CheckAll({kMax}, 6);
  CheckAll({0, kMax}, 6);
  CheckAll({0, 0, kMax, kMax}, 6);
  CheckAll({5, 6, 7}, 6);
}

TEST(RmiTest, AutomaticChoiceIsReported) {
  std::vector<uint64_t> keys;
  std::mt19937_64 rng(9);
  for (int i = 0; i < 200000; ++i) keys.push_back(rng());
  std::sort(keys.begin(), keys.end());
  const std::unique_ptr<Rmi> rmi = Build(keys, RmiOptions());
  const RmiStats& s = rmi->stats();
  EXPECT_GT(s.candidates_tried, 1u);
  EXPECT_GT(s.est_lookup_nanos, 0.0);
  EXPECT_LE(static_cast<double>(s.model_bytes), 0.05 * keys.size() + 64);
  EXPECT_LT(s.mean_window, 64.0);  // uniform keys are easy
}

// The knot search (bucket table plus fixed-step search) must equal a plain search, and the
// spline root must be monotone: the bound proof rests on both.
TEST(RmiTest, SplineSegmentMatchesPlainSearch) {
  std::mt19937_64 rng(21);
  for (int round = 0; round < 60; ++round) {
    rmi_internal::Rep rep;
    rep.root_kind = RmiRootKind::kLinearSpline;
    rep.num_leaves = 1000;
    rep.max_leaf = 999;
    const size_t k = 2 + rng() % (round % 3 == 0 ? 8 : 4000);
    std::vector<uint64_t> xs;
    while (xs.size() < k) {
      for (size_t i = xs.size(); i < k; ++i) {
        // Uniform, skewed (small values), or clustered near the top.
        uint64_t x = rng();
        if (round % 3 == 1) x >>= rng() % 64;
        if (round % 3 == 2) x = kMax - (rng() % 100000);
        xs.push_back(x);
      }
      std::sort(xs.begin(), xs.end());
      xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
    }
    rep.knot_x = xs;
    for (size_t i = 0; i < k; ++i) {
      rep.knot_y.push_back({1000.0 * static_cast<double>(i) / static_cast<double>(k), 0.0});
    }
    rmi_internal::FinishKnots(&rep);
    std::vector<uint64_t> probes = {0, kMax};
    for (uint64_t x : xs) {
      probes.push_back(x);
      probes.push_back(x - 1);
      probes.push_back(x + 1);
    }
    for (int t = 0; t < 2000; ++t) probes.push_back(rng() >> (rng() % 64));
    std::sort(probes.begin(), probes.end());
    uint32_t last_leaf = 0;
    for (uint64_t x : probes) {
      const size_t above = std::upper_bound(xs.begin(), xs.end(), x) - xs.begin();
      const size_t want = std::min(above == 0 ? 0 : above - 1, k - 2);
      ASSERT_EQ(want, rep.SplineSegment(x)) << "x=" << x << " knots=" << k;
      const uint32_t leaf = rep.Route(x);
      ASSERT_LE(last_leaf, leaf) << "x=" << x;
      last_leaf = leaf;
    }
  }
}

// An encoded model with a mix of everything: a spline root, several leaves, empty leaves.
std::string SampleEncoding(RmiRootKind kind) {
  std::vector<uint64_t> keys;
  std::mt19937_64 rng(11);
  for (int i = 0; i < 3000; ++i) keys.push_back(rng() >> (i % 3 == 0 ? 40 : 2));
  std::sort(keys.begin(), keys.end());
  std::string encoded;
  Build(keys, Options(40, false, kind))->EncodeTo(&encoded);
  return encoded;
}

void FixChecksum(std::string* encoded) {
  const size_t body = encoded->size() - 4;
  EncodeFixed32(encoded->data() + body, MaskChecksum(Checksum32(encoded->data(), body)));
}

// A decodable model must answer within [0, n] for any x.
void CheckSane(const Rmi& rmi) {
  std::mt19937_64 rng(3);
  for (int t = 0; t < 200; ++t) {
    const uint64_t x = t < 2 ? (t == 0 ? 0 : kMax) : rng() >> (t % 64);
    const SearchBound b = rmi.Lookup(x);
    ASSERT_LE(b.lo, b.hi);
    ASSERT_LE(b.hi, rmi.num_keys());
  }
}

TEST(RmiTest, EveryTruncationIsCorruption) {
  for (RmiRootKind kind : {RmiRootKind::kLinear, RmiRootKind::kLinearSpline, RmiRootKind::kRadix}) {
    const std::string encoded = SampleEncoding(kind);
    std::unique_ptr<Rmi> rmi;
    for (size_t len = 0; len < encoded.size(); ++len) {
      ASSERT_TRUE(Rmi::DecodeFrom(Slice(encoded.data(), len), &rmi).IsCorruption()) << len;
    }
    ASSERT_TRUE(Rmi::DecodeFrom(encoded + "x", &rmi).IsCorruption());
  }
}

TEST(RmiTest, EverySingleByteCorruption) {
  for (RmiRootKind kind : {RmiRootKind::kLinear, RmiRootKind::kLinearSpline, RmiRootKind::kRadix}) {
    const std::string encoded = SampleEncoding(kind);
    std::unique_ptr<Rmi> original;
    ASSERT_TRUE(Rmi::DecodeFrom(encoded, &original).ok());
    size_t caught_by_validation = 0;
    for (size_t i = 0; i < encoded.size(); ++i) {
      for (uint8_t mask : {0x01, 0x80, 0xff, 0x5a}) {
        std::string bad = encoded;
        bad[i] = static_cast<char>(bad[i] ^ mask);
        std::unique_ptr<Rmi> rmi;
        Status s = Rmi::DecodeFrom(bad, &rmi);
        if (s.ok()) {
          // Only possible if the checksum collides: then the model must be the same.
          std::string again;
          rmi->EncodeTo(&again);
          ASSERT_EQ(encoded, again) << "byte " << i;
        } else {
          ASSERT_TRUE(s.IsCorruption()) << s.ToString();
        }
        // With a valid checksum the field checks run: decoded models must stay sane.
        if (i + 4 >= encoded.size()) continue;
        FixChecksum(&bad);
        s = Rmi::DecodeFrom(bad, &rmi);
        if (s.ok()) {
          ASSERT_NO_FATAL_FAILURE(CheckSane(*rmi));
        } else {
          ASSERT_TRUE(s.IsCorruption()) << s.ToString();
          ++caught_by_validation;
        }
      }
    }
    EXPECT_GT(caught_by_validation, 0u);
  }
}

TEST(RmiTest, CorruptionMessagesNameTheField) {
  std::string encoded = SampleEncoding(RmiRootKind::kLinearSpline);
  std::unique_ptr<Rmi> rmi;
  std::string bad = encoded;
  bad[bad.size() - 1] ^= 1;
  EXPECT_NE(std::string::npos, Rmi::DecodeFrom(bad, &rmi).ToString().find("checksum"));
  bad = encoded;
  bad[1] = 9;
  EXPECT_NE(std::string::npos, Rmi::DecodeFrom(bad, &rmi).ToString().find("version"));
  // Leaf 0's slope (f64 at offset 8 of the first leaf): all exponent bits set, a NaN or inf.
  bad = encoded;
  const uint32_t knots = DecodeFixed32(bad.data() + 32);
  const size_t leaf0 = 32 + 4 + 16 * knots;
  bad[leaf0 + 15] = static_cast<char>(0xff);
  bad[leaf0 + 14] = static_cast<char>(0xff);
  FixChecksum(&bad);
  const std::string msg = Rmi::DecodeFrom(bad, &rmi).ToString();
  EXPECT_NE(std::string::npos, msg.find("leaf 0 slope")) << msg;
  EXPECT_NE(std::string::npos, msg.find("offset " + std::to_string(leaf0 + 8))) << msg;
}

}  // namespace
}  // namespace learnkv
