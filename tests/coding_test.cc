#include "util/coding.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "learnkv/status.h"
#include "util/checksum.h"

namespace learnkv {

TEST(CodingTest, FixedRoundTrip) {
  std::string s;
  for (uint32_t v = 0; v < 100000; v += 37) PutFixed32(&s, v);
  Slice in(s);
  for (uint32_t v = 0; v < 100000; v += 37) {
    uint32_t got;
    ASSERT_TRUE(GetFixed32(&in, &got));
    EXPECT_EQ(v, got);
  }
  EXPECT_TRUE(in.empty());
}

TEST(CodingTest, VarintRoundTripAllWidths) {
  std::vector<uint64_t> values;
  for (int shift = 0; shift < 64; ++shift) {
    const uint64_t p = uint64_t{1} << shift;
    values.push_back(p - 1);
    values.push_back(p);
    values.push_back(p + 1);
  }
  values.push_back(std::numeric_limits<uint64_t>::max());
  std::string s;
  for (uint64_t v : values) PutVarint64(&s, v);
  Slice in(s);
  for (uint64_t v : values) {
    const size_t before = in.size();
    uint64_t got;
    ASSERT_TRUE(GetVarint64(&in, &got));
    EXPECT_EQ(v, got);
    EXPECT_EQ(static_cast<size_t>(VarintLength(v)), before - in.size());
  }
  EXPECT_TRUE(in.empty());
}

TEST(CodingTest, TruncatedAndOverlongVarintsAreRejected) {
  std::string s;
  PutVarint64(&s, std::numeric_limits<uint64_t>::max());
  for (size_t len = 0; len < s.size(); ++len) {
    Slice in(s.data(), len);
    uint64_t v;
    EXPECT_FALSE(GetVarint64(&in, &v)) << len;
  }
  const std::string overlong(11, '\xff');
  Slice in(overlong);
  uint64_t v;
  EXPECT_FALSE(GetVarint64(&in, &v));
  std::string big;
  PutVarint64(&big, uint64_t{1} << 40);
  Slice in32(big);
  uint32_t v32;
  EXPECT_FALSE(GetVarint32(&in32, &v32));
}

TEST(CodingTest, BigEndianPreservesOrder) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 10000; ++i) {
    const uint64_t a = rng(), b = rng();
    char ea[8], eb[8];
    EncodeBigEndian64(ea, a);
    EncodeBigEndian64(eb, b);
    EXPECT_EQ(a < b, Slice(ea, 8).compare(Slice(eb, 8)) < 0);
    EXPECT_EQ(a, DecodeBigEndian64(ea));
  }
}

TEST(ChecksumTest, DetectsChangesAndMaskRoundTrips) {
  std::string data(1000, 'x');
  const uint32_t c = Checksum32(data.data(), data.size());
  data[500] = 'y';
  EXPECT_NE(c, Checksum32(data.data(), data.size()));
  EXPECT_EQ(Checksum32(data.data(), data.size()),
            Checksum32(data.data(), 300, data.data() + 300, 700));
  EXPECT_EQ(c, UnmaskChecksum(MaskChecksum(c)));
  EXPECT_NE(c, MaskChecksum(c));
}

TEST(StatusTest, CarriesCodeAndMessage) {
  Status s = Status::Corruption("000012.sst", "bad checksum at offset 4096");
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ("Corruption: 000012.sst: bad checksum at offset 4096", s.ToString());
  Status copy = s;
  EXPECT_EQ(s.ToString(), copy.ToString());
  EXPECT_EQ("OK", Status::OK().ToString());
}

}  // namespace learnkv
