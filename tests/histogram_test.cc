#include "util/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace learnkv {
namespace {

TEST(HistogramTest, Empty) {
  Histogram h;
  EXPECT_EQ(0u, h.Count());
  EXPECT_EQ(0, h.Min());
  EXPECT_EQ(0, h.Max());
  EXPECT_EQ(0, h.Average());
  EXPECT_EQ(0, h.Percentile(99));
  EXPECT_EQ(0u, h.ToString().find("Count: 0  Average: 0.0000"));
}

TEST(HistogramTest, OneToHundred) {
  Histogram h;
  for (int i = 1; i <= 100; ++i) h.Add(i);
  EXPECT_EQ(100u, h.Count());
  EXPECT_DOUBLE_EQ(1, h.Min());
  EXPECT_DOUBLE_EQ(100, h.Max());
  EXPECT_DOUBLE_EQ(50.5, h.Average());
  EXPECT_NEAR(28.866, h.StandardDeviation(), 0.01);
  // Interpolation within buckets is exact for evenly spread values.
  EXPECT_NEAR(50, h.Median(), 1.0);
  EXPECT_NEAR(75, h.Percentile(75), 1.0);
  EXPECT_NEAR(99, h.Percentile(99), 1.0);
  EXPECT_DOUBLE_EQ(1, h.Percentile(0));
  EXPECT_DOUBLE_EQ(100, h.Percentile(100));
}

TEST(HistogramTest, PercentilesAreMonotonicAndWithinTenPercent) {
  Histogram h;
  // A long-tailed latency distribution spanning six decades.
  for (int i = 0; i < 100000; ++i) h.Add(1 + (i % 1000) * (i % 1000) * (i % 7 == 0 ? 1000.0 : 1.0));
  double last = 0;
  for (double p = 0; p <= 100; p += 0.5) {
    const double v = h.Percentile(p);
    ASSERT_GE(v, last) << p;
    ASSERT_GE(v, h.Min());
    ASSERT_LE(v, h.Max());
    last = v;
  }
  Histogram exact;
  for (int i = 1; i <= 10000; ++i) exact.Add(i * 1000.0);
  EXPECT_NEAR(5e6, exact.Median(), 5e5);
  EXPECT_NEAR(9.9e6, exact.Percentile(99), 9.9e5);
}

TEST(HistogramTest, MergeEqualsAddingAll) {
  Histogram a, b, all;
  for (int i = 0; i < 1000; ++i) {
    const double v = (i * 7919) % 5000;
    (i % 3 == 0 ? a : b).Add(v);
    all.Add(v);
  }
  a.Merge(b);
  a.Merge(Histogram());
  EXPECT_EQ(all.Count(), a.Count());
  EXPECT_DOUBLE_EQ(all.Min(), a.Min());
  EXPECT_DOUBLE_EQ(all.Max(), a.Max());
  EXPECT_NEAR(all.Average(), a.Average(), 1e-9);
  EXPECT_EQ(all.ToString(), a.ToString());
  a.Clear();
  EXPECT_EQ(0u, a.Count());
}

TEST(HistogramTest, ToStringLooksLikeDbBench) {
  Histogram h;
  for (int i = 0; i < 90; ++i) h.Add(3);
  for (int i = 0; i < 10; ++i) h.Add(1500);
  const std::string s = h.ToString();
  EXPECT_NE(std::string::npos, s.find("Count: 100  Average: 152.7000  StdDev: 449.10\n")) << s;
  EXPECT_NE(std::string::npos, s.find("Min: 3.0000  Median: ")) << s;
  EXPECT_NE(std::string::npos, s.find("Max: 1500.0000\n")) << s;
  EXPECT_NE(std::string::npos, s.find("Percentiles: P50: ")) << s;
  EXPECT_NE(std::string::npos,
            s.find("[       3,       4 )      90  90.000%  90.000% ##################\n"))
      << s;
  EXPECT_NE(std::string::npos, s.find("[    1400,    1600 )      10  10.000% 100.000% ##\n")) << s;
  EXPECT_EQ(20, std::count(s.begin(), s.end(), '#'));
}

TEST(HistogramTest, ExtremeValues) {
  Histogram h;
  h.Add(0);
  h.Add(1e15);  // beyond the last finite bucket
  EXPECT_EQ(2u, h.Count());
  EXPECT_DOUBLE_EQ(1e15, h.Max());
  EXPECT_DOUBLE_EQ(1e15, h.Percentile(100));
  EXPECT_LT(h.Percentile(10), 1.0);  // inside the first bucket, [0, 1)
}

}  // namespace
}  // namespace learnkv
