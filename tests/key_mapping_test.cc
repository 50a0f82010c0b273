// Tests of KeyMapper (learned/key_mapping.h): order preservation over random byte strings,
// prefix handling, and the serialized form.
#include "learned/key_mapping.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace learnkv {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

// Random strings over a small alphabet that includes 0x00 and 0xff, so that prefixes,
// zero padding and extreme bytes all occur often.
std::string RandomKey(std::mt19937_64& rng, const std::string& stem) {
  static const char kAlphabet[] = {'\x00', '\x01', 'a', 'b', '\x7f', '\x80', '\xfe', '\xff'};
  std::string k = (rng() % 4 == 0) ? std::string() : stem.substr(0, rng() % (stem.size() + 1));
  const size_t extra = rng() % 14;
  for (size_t i = 0; i < extra; ++i) k.push_back(kAlphabet[rng() % sizeof(kAlphabet)]);
  return k;
}

TEST(KeyMappingTest, MonotoneOnRandomPairs) {
  std::mt19937_64 rng(123);
  for (int round = 0; round < 200; ++round) {
    const std::string stem = RandomKey(rng, "");
    const KeyMapper mapper(Slice(stem.data(), rng() % (stem.size() + 1)));
    for (int t = 0; t < 500; ++t) {
      const std::string a = RandomKey(rng, stem), b = RandomKey(rng, stem);
      if (Slice(a).compare(b) < 0) {
        ASSERT_LE(mapper.Map(a), mapper.Map(b)) << Slice(a).ToHex() << " " << Slice(b).ToHex();
      } else if (Slice(b).compare(a) < 0) {
        ASSERT_LE(mapper.Map(b), mapper.Map(a)) << Slice(a).ToHex() << " " << Slice(b).ToHex();
      } else {
        ASSERT_EQ(mapper.Map(a), mapper.Map(b));
      }
    }
  }
}

TEST(KeyMappingTest, MonotoneOverSortedSets) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 50; ++round) {
    const std::string stem = RandomKey(rng, "");
    std::vector<std::string> keys;
    for (int i = 0; i < 2000; ++i) keys.push_back(RandomKey(rng, stem));
    std::sort(keys.begin(), keys.end(),
              [](const std::string& a, const std::string& b) { return Slice(a) < Slice(b); });
    for (const KeyMapper& mapper :
         {KeyMapper(), KeyMapper(stem), KeyMapper::ForRange(keys.front(), keys.back())}) {
      for (size_t i = 1; i < keys.size(); ++i) {
        ASSERT_LE(mapper.Map(keys[i - 1]), mapper.Map(keys[i]));
      }
    }
  }
}

TEST(KeyMappingTest, IdentityOnFirstEightBytes) {
  const KeyMapper m;
  EXPECT_EQ(0u, m.Map(""));
  EXPECT_EQ(0x0100000000000000u, m.Map(std::string("\x01", 1)));
  EXPECT_EQ(0x0102030405060708u, m.Map("\x01\x02\x03\x04\x05\x06\x07\x08"));
  EXPECT_EQ(0x0102030405060708u, m.Map("\x01\x02\x03\x04\x05\x06\x07\x08\x09"));
  EXPECT_EQ(kMax, m.Map(std::string(8, '\xff')));
}

TEST(KeyMappingTest, PrefixHandling) {
  const KeyMapper m("abc");
  EXPECT_EQ("abc", m.prefix());
  EXPECT_EQ(0u, m.Map("abc"));
  EXPECT_EQ(0x0100000000000000u, m.Map("abc\x01"));
  EXPECT_EQ(0x6465666768696a6bu, m.Map("abcdefghijkl"));
  // Keys without the prefix: before every "abc..." key -> 0, after -> UINT64_MAX.
  EXPECT_EQ(0u, m.Map(""));
  EXPECT_EQ(0u, m.Map("ab"));
  EXPECT_EQ(0u, m.Map("abb\xff\xff"));
  EXPECT_EQ(0u, m.Map("\x00zzz"));
  EXPECT_EQ(kMax, m.Map("abd"));
  EXPECT_EQ(kMax, m.Map("b"));
  EXPECT_EQ(kMax, m.Map("\xff"));
}

TEST(KeyMappingTest, ForRangeUsesCommonPrefix) {
  EXPECT_EQ("user", KeyMapper::ForRange("user0001", "user9999").prefix());
  EXPECT_EQ("", KeyMapper::ForRange("a", "b").prefix());
  EXPECT_EQ("same", KeyMapper::ForRange("same", "same").prefix());
  EXPECT_EQ("ab", KeyMapper::ForRange("ab", "abc").prefix());
  EXPECT_EQ("", KeyMapper::ForRange("", "abc").prefix());
  const KeyMapper m = KeyMapper::ForRange("user0001", "user9999");
  EXPECT_LT(m.Map("user0001"), m.Map("user9999"));
}

TEST(KeyMappingTest, EncodeDecodeRoundTrip) {
  std::mt19937_64 rng(5);
  for (int t = 0; t < 300; ++t) {
    const std::string prefix = RandomKey(rng, std::string(300, 'p'));
    const KeyMapper m(prefix);
    std::string encoded;
    m.EncodeTo(&encoded);
    encoded += "trailer";
    Slice input(encoded);
    KeyMapper decoded;
    ASSERT_TRUE(KeyMapper::DecodeFrom(&input, &decoded).ok());
    EXPECT_EQ(prefix, decoded.prefix());
    EXPECT_EQ("trailer", input.ToString());
    for (int i = 0; i < 20; ++i) {
      const std::string k = RandomKey(rng, prefix);
      ASSERT_EQ(m.Map(k), decoded.Map(k));
    }
  }
}

TEST(KeyMappingTest, DecodeRejectsMalformedInput) {
  std::string encoded;
  KeyMapper("some prefix").EncodeTo(&encoded);
  for (size_t len = 0; len < encoded.size(); ++len) {
    Slice input(encoded.data(), len);
    KeyMapper m;
    EXPECT_TRUE(KeyMapper::DecodeFrom(&input, &m).IsCorruption()) << len;
  }
  Slice overlong("\xff\xff\xff\xff\xff\xff");
  KeyMapper m;
  EXPECT_TRUE(KeyMapper::DecodeFrom(&overlong, &m).IsCorruption());
}

}  // namespace
}  // namespace learnkv
