// Tests of KeyMapper (learned/key_mapping.h): order preservation over random byte strings,
// prefix handling, and the serialized form.
#include "learned/key_mapping.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
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


// ---- Mixed-radix mappings (KeyMapper::MixedRadix, KeyMapperBuilder) ----

std::vector<std::string> SortedUnique(std::vector<std::string> keys) {
  std::sort(keys.begin(), keys.end(),
            [](const std::string& a, const std::string& b) { return Slice(a) < Slice(b); });
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

// A random mixed-radix mapper: random prefix, random [min, max] per position.
KeyMapper RandomMixedRadix(std::mt19937_64& rng, const std::string& stem) {
  uint8_t min[KeyMapper::kMaxDigits], max[KeyMapper::kMaxDigits];
  for (size_t i = 0; i < KeyMapper::kMaxDigits; ++i) {
    uint8_t a = static_cast<uint8_t>(rng()), b = static_cast<uint8_t>(rng());
    if (rng() % 3 == 0) b = a;                                  // radix 1
    if (rng() % 4 == 0) a = 0x00, b = static_cast<uint8_t>(rng() % 2 ? 0xff : b);
    min[i] = std::min(a, b);
    max[i] = std::max(a, b);
  }
  return KeyMapper::MixedRadix(Slice(stem.data(), rng() % (stem.size() + 1)), min, max,
                               rng() % (KeyMapper::kMaxDigits + 1));
}

TEST(KeyMappingTest, MixedRadixMonotoneOnRandomPairs) {
  std::mt19937_64 rng(99);
  for (int round = 0; round < 300; ++round) {
    const std::string stem = RandomKey(rng, "");
    const KeyMapper mapper = RandomMixedRadix(rng, stem);
    for (int t = 0; t < 500; ++t) {
      const std::string a = RandomKey(rng, stem), b = RandomKey(rng, stem);
      const int c = Slice(a).compare(b);
      if (c < 0) {
        ASSERT_LE(mapper.Map(a), mapper.Map(b)) << Slice(a).ToHex() << " " << Slice(b).ToHex();
      } else if (c > 0) {
        ASSERT_LE(mapper.Map(b), mapper.Map(a)) << Slice(a).ToHex() << " " << Slice(b).ToHex();
      } else {
        ASSERT_EQ(mapper.Map(a), mapper.Map(b));
      }
    }
  }
}

TEST(KeyMappingTest, BuilderMatchesMapAndStaysMonotone) {
  std::mt19937_64 rng(5);
  for (int round = 0; round < 60; ++round) {
    const std::string stem = RandomKey(rng, "") + "stem";
    std::vector<std::string> raw;
    for (int i = 0; i < 1500; ++i) raw.push_back(RandomKey(rng, stem));
    if (round % 2 == 0) {  // digit-like keys with a long shared stem
      for (std::string& k : raw) {
        k = stem + std::to_string(rng() % 1000000000);
        k.resize(stem.size() + 12, '0');
      }
    }
    const std::vector<std::string> keys = SortedUnique(raw);
    KeyMapperBuilder builder;
    for (const std::string& k : keys) builder.Add(k);
    std::vector<uint64_t> mapped;
    const KeyMapper mapper = builder.Finish(&mapped);
    ASSERT_EQ(keys.size(), mapped.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      ASSERT_EQ(mapper.Map(keys[i]), mapped[i]) << i;
      if (i > 0) {
        ASSERT_LE(mapped[i - 1], mapped[i]);
      }
    }
    // Absent keys too: every random string keeps the order against every present key.
    for (int t = 0; t < 300; ++t) {
      const std::string a = RandomKey(rng, stem);
      const size_t j = rng() % keys.size();
      const int c = Slice(a).compare(keys[j]);
      if (c < 0) {
        ASSERT_LE(mapper.Map(a), mapped[j]);
      } else if (c > 0) {
        ASSERT_GE(mapper.Map(a), mapped[j]);
      }
    }
    std::string encoded;
    mapper.EncodeTo(&encoded);
    Slice input(encoded);
    KeyMapper decoded;
    ASSERT_TRUE(KeyMapper::DecodeFrom(&input, &decoded).ok());
    ASSERT_TRUE(input.empty());
    for (size_t i = 0; i < keys.size(); i += 7) ASSERT_EQ(mapped[i], decoded.Map(keys[i]));
  }
}

TEST(KeyMappingTest, DigitKeysUseTheWholeRange) {
  KeyMapperBuilder builder;
  for (int i = 0; i <= 999; ++i) {
    char k[16];
    snprintf(k, sizeof(k), "user%03d", i);
    builder.Add(k);
  }
  std::vector<uint64_t> mapped;
  const KeyMapper m = builder.Finish(&mapped);
  EXPECT_FALSE(m.legacy());
  EXPECT_EQ("user", m.prefix());
  EXPECT_EQ(3u, m.num_digits());
  for (uint64_t i = 0; i < mapped.size(); ++i) EXPECT_EQ(i, mapped[i]);  // dense: 000..999
  EXPECT_EQ(0u, m.Map("user"));
  EXPECT_EQ(0u, m.Map("user/99"));  // '/' < '0': below min, all zero
  EXPECT_EQ(999u, m.Map("user:"));  // ':' > '9': above max, all largest
  EXPECT_EQ(199u, m.Map("user1:0"));
  EXPECT_EQ(kMax, m.Map("uses"));
}

TEST(KeyMappingTest, FullRangeBytesGiveTheLegacyMapping) {
  uint8_t min[8], max[8];
  std::fill_n(min, 8, 0);
  std::fill_n(max, 8, 0xff);
  const KeyMapper m = KeyMapper::MixedRadix("p", min, max, 8);
  EXPECT_TRUE(m.legacy());
  std::string encoded, legacy;
  m.EncodeTo(&encoded);
  KeyMapper("p").EncodeTo(&legacy);
  EXPECT_EQ(legacy, encoded);
}

TEST(KeyMappingTest, MixedRadixDecodeRejectsBadInput) {
  uint8_t min[3] = {'0', 'a', 7}, max[3] = {'9', 'z', 7};
  std::string encoded;
  KeyMapper::MixedRadix("pre", min, max, 3).EncodeTo(&encoded);
  for (size_t len = 0; len < encoded.size(); ++len) {
    Slice input(encoded.data(), len);
    KeyMapper m;
    const Status s = KeyMapper::DecodeFrom(&input, &m);
    // A cut that leaves a valid legacy encoding is impossible: the marker is never legacy.
    EXPECT_TRUE(s.IsCorruption()) << len;
  }
  auto mutated = [&](size_t pos, char c) {
    std::string e = encoded;
    e[pos] = c;
    Slice input(e);
    KeyMapper m;
    return KeyMapper::DecodeFrom(&input, &m);
  };
  EXPECT_TRUE(mutated(2, '\x03').IsCorruption());       // unknown version
  EXPECT_TRUE(mutated(7, '\x11').IsCorruption());       // more digits than kMaxDigits
  EXPECT_TRUE(mutated(8, ':').IsCorruption());          // min > max
  std::string overflow = encoded.substr(0, 7);          // 17 full-range digits overflow
  overflow.push_back('\x09');
  for (int i = 0; i < 9; ++i) overflow += std::string("\x00\xff", 2);
  Slice input(overflow);
  KeyMapper m;
  EXPECT_TRUE(KeyMapper::DecodeFrom(&input, &m).IsCorruption());
}

}  // namespace
}  // namespace learnkv
