#include "util/datasets.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "util/coding.h"

namespace learnkv {
namespace {

class DatasetsTest : public testing::TestWithParam<Dataset> {};

TEST_P(DatasetsTest, SortedUniqueAndRightSize) {
  for (size_t n : {0, 1, 2, 100, 20000}) {
    const std::vector<std::string> keys = GenerateSortedKeys(GetParam(), n, 7);
    ASSERT_EQ(n, keys.size());
    for (size_t i = 1; i < keys.size(); ++i) {
      ASSERT_LT(keys[i - 1], keys[i]) << "at " << i;  // std::string compares bytes unsigned
    }
    for (const std::string& k : keys) {
      ASSERT_FALSE(k.empty());
      if (IsIntegerDataset(GetParam())) {
        ASSERT_EQ(8u, k.size());
      }
    }
  }
}

TEST_P(DatasetsTest, DeterministicBySeed) {
  const auto a = GenerateSortedKeys(GetParam(), 5000, 1);
  const auto b = GenerateSortedKeys(GetParam(), 5000, 1);
  const auto c = GenerateSortedKeys(GetParam(), 5000, 2);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(GenerateAbsentKeys(GetParam(), a, 500, 3), GenerateAbsentKeys(GetParam(), a, 500, 3));
  EXPECT_NE(GenerateAbsentKeys(GetParam(), a, 500, 3), GenerateAbsentKeys(GetParam(), a, 500, 4));
}

TEST_P(DatasetsTest, AbsentKeysAreAbsentAndSameShape) {
  const auto keys = GenerateSortedKeys(GetParam(), 20000, 11);
  const auto absent = GenerateAbsentKeys(GetParam(), keys, 5000, 11);
  ASSERT_EQ(5000u, absent.size());
  size_t inside = 0;
  for (const std::string& k : absent) {
    ASSERT_FALSE(std::binary_search(keys.begin(), keys.end(), k)) << Slice(k).ToHex();
    if (IsIntegerDataset(GetParam())) {
      ASSERT_EQ(8u, k.size());
    }
    if (k > keys.front() && k < keys.back()) ++inside;
  }
  // Absent keys must exercise searches inside the key range, except for a dense run, which
  // has no gaps to fall into.
  if (GetParam() == Dataset::kUniformDense) {
    EXPECT_EQ(0u, inside);
  } else {
    EXPECT_GT(inside, absent.size() / 2);
  }
}

TEST_P(DatasetsTest, NameRoundTrips) {
  Dataset parsed;
  ASSERT_TRUE(ParseDataset(DatasetName(GetParam()), &parsed));
  EXPECT_EQ(GetParam(), parsed);
}

INSTANTIATE_TEST_SUITE_P(All, DatasetsTest, testing::ValuesIn(AllDatasets()),
                         [](const testing::TestParamInfo<Dataset>& info) {
                           return std::string(DatasetName(info.param));
                         });

TEST(DatasetsShapeTest, Shapes) {
  EXPECT_EQ(9u, AllDatasets().size());
  Dataset d;
  EXPECT_FALSE(ParseDataset("no_such_set", &d));
  EXPECT_EQ(std::string("\x00\x00\x00\x00\x00\x00\x01\x02", 8), EncodeIntegerKey(0x102));

  const auto dense = GenerateSortedKeys(Dataset::kUniformDense, 1000, 5);
  const uint64_t first = DecodeBigEndian64(dense.front().data());
  for (size_t i = 0; i < dense.size(); ++i) {
    ASSERT_EQ(first + i, DecodeBigEndian64(dense[i].data()));
  }
  for (const std::string& k : GenerateSortedKeys(Dataset::kYcsb, 1000, 5)) {
    ASSERT_EQ(23u, k.size());
    ASSERT_EQ(0u, k.rfind("user", 0));
    ASSERT_TRUE(std::all_of(k.begin() + 4, k.end(), [](char c) { return c >= '0' && c <= '9'; }));
  }
  const auto prefixed = GenerateSortedKeys(Dataset::kLongPrefix, 1000, 5);
  for (const std::string& k : prefixed) ASSERT_EQ(0, k.compare(0, 40, prefixed[0], 0, 40));
  for (const std::string& k : GenerateSortedKeys(Dataset::kUrl, 1000, 5)) {
    ASSERT_TRUE(k.rfind("http://", 0) == 0 || k.rfind("https://", 0) == 0) << k;
  }
  for (const std::string& k : GenerateSortedKeys(Dataset::kRandomBinary, 1000, 5)) {
    ASSERT_GE(k.size(), 1u);
    ASSERT_LE(k.size(), 32u);
  }
}

// The normal set concentrates around the middle of the 64-bit range; the lognormal set is
// heavily skewed toward small values. Checks that the quantile transforms are wired right.
TEST(DatasetsShapeTest, SkewedDistributions) {
  auto fraction_below = [](const std::vector<std::string>& keys, uint64_t limit) {
    size_t below = 0;
    for (const auto& k : keys) below += DecodeBigEndian64(k.data()) < limit;
    return static_cast<double>(below) / keys.size();
  };
  const uint64_t half = uint64_t{1} << 63;
  const auto normal = GenerateSortedKeys(Dataset::kNormal, 20000, 3);
  EXPECT_NEAR(0.5, fraction_below(normal, half), 0.03);
  // One standard deviation is 1/17 of the range: about 68% of keys lie within it.
  const uint64_t sd = static_cast<uint64_t>(18446744073709551616.0 / 17);
  EXPECT_NEAR(0.68, fraction_below(normal, half + sd) - fraction_below(normal, half - sd), 0.03);

  const auto lognormal = GenerateSortedKeys(Dataset::kLognormal, 20000, 3);
  EXPECT_GT(fraction_below(lognormal, uint64_t{1} << 50), 0.9);
  EXPECT_LT(fraction_below(lognormal, uint64_t{1} << 30), 0.5);

  const auto uniform = GenerateSortedKeys(Dataset::kUniformSparse, 20000, 3);
  EXPECT_NEAR(0.25, fraction_below(uniform, uint64_t{1} << 62), 0.03);
}

}  // namespace
}  // namespace learnkv
