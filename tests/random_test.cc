#include "util/random.h"

#include <gtest/gtest.h>

#include <vector>

namespace learnkv {
namespace {

TEST(RandomTest, DeterministicBySeed) {
  Random a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.Next64();
    EXPECT_EQ(x, b.Next64());
    differs = differs || x != c.Next64();
  }
  EXPECT_TRUE(differs);
}

TEST(RandomTest, UniformCoversRangeEvenly) {
  Random rnd(1);
  constexpr int kBuckets = 10;
  constexpr int kDraws = 100000;
  std::vector<int> counts(kBuckets);
  for (int i = 0; i < kDraws; ++i) {
    const uint32_t v = rnd.Uniform(kBuckets);
    ASSERT_LT(v, uint32_t{kBuckets});
    ++counts[v];
  }
  for (int c : counts) EXPECT_NEAR(kDraws / kBuckets, c, kDraws / kBuckets / 10);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(0u, rnd.Uniform(1));
    ASSERT_LT(rnd.Uniform64(3), 3u);
    const double d = rnd.NextDouble();
    ASSERT_GE(d, 0.0);
    ASSERT_LT(d, 1.0);
  }
}

TEST(RandomTest, OneInAndSkewed) {
  Random rnd(2);
  int hits = 0;
  for (int i = 0; i < 100000; ++i) hits += rnd.OneIn(10);
  EXPECT_NEAR(10000, hits, 1000);
  int small = 0;
  for (int i = 0; i < 10000; ++i) {
    const uint32_t v = rnd.Skewed(10);
    ASSERT_LT(v, 1u << 10);
    small += v < 32;
  }
  EXPECT_GT(small, 10000 / 3);  // at least half the widths are <= 5 bits, plus luck below
}

}  // namespace
}  // namespace learnkv
