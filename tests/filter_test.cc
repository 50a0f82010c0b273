// Tests of the classic filters (learned/filter_bloom.h, learned/filter_fuse.h), the filter block
// (learned/filter_policy.h) and Monkey's allocation (learned/filter_monkey.h): no false
// negatives at any size, false-positive rates as modelled, serialization that round-trips and
// rejects every truncation and flipped byte.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "learned/filter_bloom.h"
#include "learned/filter_fuse.h"
#include "learned/filter_monkey.h"
#include "learned/filter_policy.h"
#include "util/random.h"

namespace learnkv {
namespace {

std::vector<uint64_t> RandomHashes(size_t n, uint64_t seed) {
  Random rnd(seed);
  std::vector<uint64_t> h(n);
  for (uint64_t& x : h) x = rnd.Next64();
  return h;
}

// Three standard errors of a rate p measured on m trials, plus a little slack.
double Tolerance(double p, size_t m) { return 3 * std::sqrt(p * (1 - p) / m) + 1e-4; }

template <typename F>
double MeasureFpr(const F& may_contain, size_t m, uint64_t seed) {
  const std::vector<uint64_t> probes = RandomHashes(m, seed);
  size_t hits = 0;
  for (uint64_t h : probes) hits += may_contain(h) ? 1 : 0;
  return static_cast<double>(hits) / static_cast<double>(m);
}

TEST(BloomFilter, NoFalseNegativesAndModelledRate) {
  for (size_t n : {0, 1, 7, 100, 5000, 100000}) {
    for (double bpk : {4.0, 9.6, 14.0}) {
      const std::vector<uint64_t> keys = RandomHashes(n, n + 1);
      const BloomFilter f = BloomFilter::Build(keys.data(), n, bpk);
      for (uint64_t h : keys) ASSERT_TRUE(f.MayContain(h)) << n << " keys, " << bpk;
      if (n < 5000) continue;
      const double fpr = MeasureFpr([&](uint64_t h) { return f.MayContain(h); }, 200000, 99);
      const double actual_bpk = 512.0 * f.num_blocks() / n;
      const double expected = BloomFilter::ExpectedFpr(actual_bpk, f.num_probes());
      EXPECT_NEAR(fpr, expected, Tolerance(expected, 200000) + 0.05 * expected)
          << n << " keys, " << bpk << " bits per key";
    }
  }
}

TEST(BloomFilter, SizingForATarget) {
  // A blocked Bloom filter needs a little more than the standard filter's 9.6 bits for 1%.
  const double bpk = BloomFilter::BitsPerKeyFor(0.01);
  EXPECT_GT(bpk, 9.5);
  EXPECT_LT(bpk, 11.5);
  EXPECT_LE(BloomFilter::ExpectedFpr(bpk, BloomFilter::BestProbes(bpk)), 0.01);
}

TEST(BloomFilter, RoundTripAndTruncation) {
  const std::vector<uint64_t> keys = RandomHashes(3000, 5);
  const BloomFilter f = BloomFilter::Build(keys.data(), keys.size(), 10);
  std::string enc;
  f.EncodeTo(&enc);
  EXPECT_EQ(enc.size(), BloomFilter::EncodedBytes(keys.size(), 10));
  BloomFilter g;
  Slice in(enc);
  ASSERT_TRUE(BloomFilter::DecodeFrom(&in, &g).ok());
  EXPECT_TRUE(in.empty());
  for (uint64_t h : RandomHashes(10000, 6)) ASSERT_EQ(f.MayContain(h), g.MayContain(h));
  for (size_t len = 0; len < enc.size(); len += 7) {
    Slice t(enc.data(), len);
    EXPECT_TRUE(BloomFilter::DecodeFrom(&t, &g).IsCorruption()) << len;
  }
}

TEST(FuseFilter, NoFalseNegativesAtEveryWidthAndSize) {
  for (size_t n : {0, 1, 2, 3, 10, 100, 1000, 20000}) {
    for (int bits : {1, 4, 7, 8, 13, 16}) {
      std::vector<uint64_t> keys = RandomHashes(n, 7 * n + bits);
      if (n >= 10) keys.push_back(keys[3]);  // duplicates are dropped, not fatal
      const FuseFilter f = FuseFilter::Build(keys, bits);
      for (uint64_t h : keys) ASSERT_TRUE(f.MayContain(h)) << n << " keys, " << bits << " bits";
      if (n == 0) {
        EXPECT_FALSE(f.MayContain(12345));
      }
    }
  }
}

TEST(FuseFilter, RateIsTwoToTheMinusBitsAndSizeAsPredicted) {
  for (int bits : {2, 5, 8}) {
    const size_t n = 100000;
    const std::vector<uint64_t> keys = RandomHashes(n, bits);
    const FuseFilter f = FuseFilter::Build(keys, bits);
    const double expected = std::ldexp(1.0, -bits);
    const double fpr = MeasureFpr([&](uint64_t h) { return f.MayContain(h); }, 400000, 77);
    EXPECT_NEAR(fpr, expected, Tolerance(expected, 400000)) << bits;
    std::string enc;
    f.EncodeTo(&enc);
    EXPECT_EQ(enc.size(), FuseFilter::EncodedBytes(n, bits));
    // The paper's size: about 1.125 to 1.2 slots per key at this size.
    EXPECT_LT(enc.size(), 1.2 * n * bits / 8 + 64);
  }
}

TEST(FuseFilter, RoundTripAndTruncation) {
  const std::vector<uint64_t> keys = RandomHashes(2000, 8);
  const FuseFilter f = FuseFilter::Build(keys, 9);
  std::string enc;
  f.EncodeTo(&enc);
  FuseFilter g;
  Slice in(enc);
  ASSERT_TRUE(FuseFilter::DecodeFrom(&in, &g).ok());
  EXPECT_TRUE(in.empty());
  for (uint64_t h : RandomHashes(10000, 9)) ASSERT_EQ(f.MayContain(h), g.MayContain(h));
  for (size_t len = 0; len < enc.size(); len += 5) {
    Slice t(enc.data(), len);
    EXPECT_TRUE(FuseFilter::DecodeFrom(&t, &g).IsCorruption()) << len;
  }
}

TEST(FractionalFuseFilter, InterpolatesBetweenWidths) {
  EXPECT_DOUBLE_EQ(FractionalFuseFilter::Fpr(0), 1.0);
  EXPECT_DOUBLE_EQ(FractionalFuseFilter::Fpr(56), 1.0 / 128);
  EXPECT_DOUBLE_EQ(FractionalFuseFilter::Fpr(52), 0.5 / 128 + 0.5 / 64);
  const int e = FractionalFuseFilter::EighthsFor(0.01);
  EXPECT_EQ(e, 54);  // 6.75 bits: 0.98%
  EXPECT_LE(FractionalFuseFilter::Fpr(e), 0.01);
  EXPECT_GT(FractionalFuseFilter::Fpr(e - 1), 0.01);

  const size_t n = 60000;
  const std::vector<uint64_t> keys = RandomHashes(n, 10);
  for (int eighths : {0, 3, 8, 21, 54}) {
    const FractionalFuseFilter f = FractionalFuseFilter::Build(keys, eighths);
    for (uint64_t h : keys) ASSERT_TRUE(f.MayContain(h)) << eighths;
    const double expected = FractionalFuseFilter::Fpr(eighths);
    const double fpr = MeasureFpr([&](uint64_t h) { return f.MayContain(h); }, 300000, 11);
    EXPECT_NEAR(fpr, expected, Tolerance(expected, 300000) + 0.02 * expected) << eighths;
    std::string enc;
    f.EncodeTo(&enc);
    EXPECT_NEAR(static_cast<double>(enc.size()),
                static_cast<double>(FractionalFuseFilter::EncodedBytes(n, eighths)),
                0.04 * enc.size() + 64);
    // From how the keys split between the two widths, the size is exact.
    uint64_t split[8] = {};
    for (uint64_t h : keys) split[FractionalFuseFilter::SplitValue(h)]++;
    EXPECT_EQ(enc.size(), FractionalFuseFilter::EncodedBytes(split, eighths)) << eighths;
    FractionalFuseFilter g;
    Slice in(enc);
    ASSERT_TRUE(FractionalFuseFilter::DecodeFrom(&in, &g).ok());
    for (uint64_t h : RandomHashes(5000, 12)) ASSERT_EQ(f.MayContain(h), g.MayContain(h));
  }
}

// A classic filter block over a few keys.
std::string SmallBlock(FilterType type) {
  FilterOptions options;
  options.type = type;
  FilterBuilder builder(options);
  for (int i = 0; i < 50; ++i) builder.AddKey("key" + std::to_string(1000 + i));
  std::string block;
  FilterReport report;
  builder.Finish(&block, &report);
  EXPECT_EQ(report.num_keys, 50u);
  EXPECT_EQ(report.bytes, block.size());
  return block;
}

TEST(FilterBlock, EveryFlippedByteAndTruncationIsCorruption) {
  for (FilterType type : {FilterType::kBloom, FilterType::kFuse}) {
    const std::string block = SmallBlock(type);
    std::unique_ptr<Filter> f;
    ASSERT_TRUE(Filter::DecodeFrom(block, &f).ok());
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(f->KeyMayMatch("key" + std::to_string(1000 + i)));
    for (size_t i = 0; i < block.size(); ++i) {
      for (int bit : {0, 7}) {
        std::string damaged = block;
        damaged[i] ^= static_cast<char>(1 << bit);
        EXPECT_TRUE(Filter::DecodeFrom(damaged, &f).IsCorruption()) << "byte " << i;
        EXPECT_EQ(f, nullptr);
      }
    }
    for (size_t len = 0; len < block.size(); ++len) {
      EXPECT_TRUE(Filter::DecodeFrom(Slice(block.data(), len), &f).IsCorruption()) << len;
    }
  }
}

TEST(FilterBlock, UnknownVersionAndKindAreCorruption) {
  std::string payload;
  std::string block;
  EncodeFilterBlock(static_cast<FilterKind>(9), 0, payload, &block);
  std::unique_ptr<Filter> f;
  EXPECT_TRUE(Filter::DecodeFrom(block, &f).IsCorruption());
  block = SmallBlock(FilterType::kFuse);
  std::string other;
  EncodeFilterBlock(FilterKind::kFuse, 50, block.substr(2 + 1, block.size() - 4 - 3), &other);
  ASSERT_TRUE(Filter::DecodeFrom(other, &f).ok());
  other[0] = 2;  // version
  EXPECT_TRUE(Filter::DecodeFrom(other, &f).IsCorruption());
}

TEST(FilterBuilder, ClassicChoiceAndRepeatedKeys) {
  FilterOptions options;  // kAuto without negatives: the smaller classic filter
  FilterBuilder builder(options);
  for (int i = 0; i < 20000; ++i) {
    const std::string k = "user" + std::to_string(100000 + i);
    builder.AddKey(k);
    builder.AddKey(k);  // another version of the same user key
  }
  std::string block;
  FilterReport report;
  builder.Finish(&block, &report);
  EXPECT_EQ(report.num_keys, 20000u);
  EXPECT_EQ(report.kind, "fuse");
  EXPECT_EQ(report.reason, "no negatives to train on");
  EXPECT_LE(report.measured_fpr, 0.01);
  EXPECT_LT(report.bits_per_key, 9.0);  // 6.75-bit fingerprints, 1.22 slots per key at 20K
  EXPECT_EQ(report.heldout_negatives, 0u);
}

TEST(Monkey, RatesProportionalToLevelSizeAndCheaperThanUniform) {
  const std::vector<LevelFilterLoad> levels = {{1000, 4}, {10000, 1}, {100000, 1}, {1000000, 1}};
  const double n = 1111000;
  const double budget = 8 * n;  // 8 bits per key on average
  const std::vector<double> p = AllocateLevelFprs(levels, budget);
  ASSERT_EQ(p.size(), levels.size());
  EXPECT_LE(FilterBits(levels, p), budget * (1 + 1e-6));
  EXPECT_GE(FilterBits(levels, p), budget * 0.999);
  for (size_t i = 1; i + 1 < levels.size(); ++i) {
    if (p[i] < 1 && p[i + 1] < 1) {
      EXPECT_NEAR(p[i + 1] / p[i], 10.0, 1e-6);
    }
  }
  // The same budget spread as one rate everywhere: 8 = 1.13 log2(1 / p).
  const double uniform = std::exp2(-8 / 1.13);
  const std::vector<double> u(levels.size(), uniform);
  EXPECT_NEAR(FilterBits(levels, u), budget, budget * 1e-6);
  EXPECT_LT(ExpectedFalsePositives(levels, p), 0.8 * ExpectedFalsePositives(levels, u));
  // Extremes.
  for (double r : AllocateLevelFprs(levels, 0)) EXPECT_EQ(r, 1.0);
  for (double r : AllocateLevelFprs(levels, 1e12, 1.13, 1e-4)) EXPECT_EQ(r, 1e-4);
  EXPECT_EQ(AllocateLevelFprs({{100, 0}}, 1000)[0], 1.0);  // never probed: no filter
}

}  // namespace
}  // namespace learnkv
