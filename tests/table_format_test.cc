// Unit tests of the table format's pieces: record blocks, the block locator and the footer,
// including their rejection of malformed bytes.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "sstable/block.h"
#include "sstable/block_builder.h"
#include "sstable/block_locator.h"
#include "sstable/format.h"

namespace learnkv {
namespace {

BlockContents Copy(const Slice& s) {
  BlockContents c;
  c.data.reset(new char[s.size() + 1]);
  memcpy(c.data.get(), s.data(), s.size());
  c.size = s.size();
  return c;
}

TEST(BlockFormat, RoundTripNarrowAndWide) {
  for (size_t value_size : {size_t{3}, size_t{40000}}) {  // the second forces u32 offsets
    BlockBuilder builder;
    std::vector<std::pair<std::string, std::string>> records;
    for (int i = 0; i < 5; ++i) {
      records.emplace_back("key" + std::to_string(i), std::string(value_size, 'a' + i));
      builder.Add(records.back().first, records.back().second);
    }
    EXPECT_EQ(builder.num_records(), 5u);
    Block block;
    ASSERT_TRUE(Block::Parse(Copy(builder.Finish()), false, "f", 0, &block).ok());
    ASSERT_EQ(block.num_records(), 5u);
    for (uint32_t i = 0; i < 5; ++i) {
      Slice k, v;
      block.RecordAt(i, &k, &v);
      EXPECT_EQ(k, Slice(records[i].first));
      EXPECT_EQ(v, Slice(records[i].second));
    }
    Slice v;
    EXPECT_TRUE(block.Find("key3", &v));
    EXPECT_FALSE(block.Find("key9", &v));
  }
}

TEST(BlockFormat, EmptyBlock) {
  BlockBuilder builder;
  Block block;
  ASSERT_TRUE(Block::Parse(Copy(builder.Finish()), true, "f", 0, &block).ok());
  EXPECT_EQ(block.num_records(), 0u);
}

TEST(BlockFormat, ParseRejectsMalformedBlocks) {
  BlockBuilder builder;
  builder.Add("0123456789", "v");
  builder.Add("abcdefghij", "w");
  const std::string good = builder.Finish().ToString();
  Block block;
  // Internal keys must hold a trailer.
  BlockBuilder short_keys;
  short_keys.Add("short", "v");
  Status s = Block::Parse(Copy(short_keys.Finish()), true, "x.sst", 77, &block);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.ToString(), "Corruption: x.sst: internal key too short in block at offset 77");
  // Too short, counts too large, offsets out of order.
  EXPECT_TRUE(Block::Parse(Copy("abc"), false, "f", 0, &block).IsCorruption());
  std::string bad_count = good;
  bad_count[bad_count.size() - 4] = static_cast<char>(0xfe);
  EXPECT_TRUE(Block::Parse(Copy(bad_count), false, "f", 0, &block).IsCorruption());
  // Every single-byte change is either still a consistent block or rejected, never a crash.
  for (size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = good;
      damaged[i] ^= static_cast<char>(1 << bit);
      if (Block::Parse(Copy(damaged), false, "f", 0, &block).ok()) {
        for (uint32_t r = 0; r < block.num_records(); ++r) {
          Slice k, v;
          block.RecordAt(r, &k, &v);
          EXPECT_LE(k.size() + v.size(), damaged.size());
        }
      }
    }
  }
}

std::vector<uint64_t> BlockStarts(size_t num_blocks, uint64_t base_size, uint64_t jitter,
                                  uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> starts;
  uint64_t offset = 0;
  for (size_t i = 0; i < num_blocks; ++i) {
    starts.push_back(offset);
    offset += base_size + (jitter == 0 ? 0 : rng() % jitter);
  }
  starts.push_back(offset);  // the data end
  return starts;
}

TEST(BlockLocator, RoundTripsEveryShape) {
  for (size_t num_blocks : {0, 1, 63, 64, 65, 1000, 5000}) {
    for (auto [base, jitter] : {std::pair<uint64_t, uint64_t>{4101, 0},
                                {4000, 300},
                                {9, 1},
                                {100, 1000000},
                                {1 << 20, 1ull << 36}}) {
      const std::vector<uint64_t> starts = BlockStarts(num_blocks, base, jitter, num_blocks);
      BlockLocatorBuilder builder;
      for (size_t i = 0; i < num_blocks; ++i) builder.AddBlockStart(starts[i]);
      std::string encoding;
      builder.Finish(starts.back(), &encoding);
      encoding.append("tail");
      BlockLocator locator;
      Slice input(encoding);
      ASSERT_TRUE(locator.DecodeFrom(&input, starts.back()).ok());
      EXPECT_EQ(input, Slice("tail"));
      EXPECT_EQ(locator.encoded_size(), encoding.size() - 4);
      ASSERT_EQ(locator.num_blocks(), num_blocks);
      for (size_t i = 0; i <= num_blocks; ++i) ASSERT_EQ(locator.Offset(i), starts[i]) << i;
      if (num_blocks > 0) {
        const BlockHandle h = locator.Handle(num_blocks - 1);
        EXPECT_EQ(h.offset, starts[num_blocks - 1]);
        EXPECT_EQ(h.size, starts[num_blocks] - starts[num_blocks - 1] - kBlockTrailerSize);
      }
      if (jitter == 0 && num_blocks >= 64) {
        // Fixed-size blocks cost a group header per 64 blocks and no bits.
        EXPECT_LE(encoding.size(), 32 + (num_blocks / 64 + 1) * 13);
      }
    }
  }
}

TEST(BlockLocator, RejectsMalformedEncodings) {
  const std::vector<uint64_t> starts = BlockStarts(200, 4000, 500, 1);
  BlockLocatorBuilder builder;
  for (size_t i = 0; i < 200; ++i) builder.AddBlockStart(starts[i]);
  std::string encoding;
  builder.Finish(starts.back(), &encoding);
  BlockLocator locator;
  Slice input(encoding);
  EXPECT_TRUE(locator.DecodeFrom(&input, starts.back() + 1).IsCorruption());  // wrong data end
  for (size_t len = 0; len < encoding.size(); ++len) {
    Slice truncated(encoding.data(), len);
    EXPECT_FALSE(locator.DecodeFrom(&truncated, starts.back()).ok()) << len;
  }
  for (size_t i = 0; i < encoding.size(); ++i) {
    std::string damaged = encoding;
    damaged[i] ^= 0x41;
    Slice in(damaged);
    if (locator.DecodeFrom(&in, starts.back()).ok()) {
      // Whatever decoded is increasing and ends at the data end: safe to use.
      for (uint64_t b = 0; b < locator.num_blocks(); ++b) {
        ASSERT_LT(locator.Offset(b), locator.Offset(b + 1));
      }
    }
  }
}

TEST(Footer, RoundTripAndRejections) {
  Footer footer;
  footer.metaindex = BlockHandle{1000, 50};
  footer.index = BlockHandle{900, 95};
  footer.index_type = IndexType::kLearned;
  std::string encoding;
  footer.EncodeTo(&encoding);
  ASSERT_EQ(encoding.size(), Footer::kEncodedLength);
  Footer decoded;
  ASSERT_TRUE(decoded.DecodeFrom(encoding).ok());
  EXPECT_EQ(decoded.metaindex.offset, 1000u);
  EXPECT_EQ(decoded.metaindex.size, 50u);
  EXPECT_EQ(decoded.index.offset, 900u);
  EXPECT_EQ(decoded.index.size, 95u);
  EXPECT_EQ(decoded.index_type, IndexType::kLearned);
  EXPECT_EQ(encoding.substr(40), "learnkv!");
  for (size_t i = 0; i < encoding.size(); ++i) {
    std::string damaged = encoding;
    damaged[i] ^= 0x04;
    Status s = decoded.DecodeFrom(damaged);
    EXPECT_TRUE(s.IsCorruption()) << i;
    if (i >= 40) {
      EXPECT_NE(s.ToString().find("magic"), std::string::npos);
    }
  }
}

TEST(BlockHandle, FitsWithinGuardsOverflow) {
  EXPECT_TRUE((BlockHandle{0, 10}).FitsWithin(15));
  EXPECT_FALSE((BlockHandle{0, 11}).FitsWithin(15));
  EXPECT_FALSE((BlockHandle{UINT64_MAX - 2, 1}).FitsWithin(100));
  EXPECT_FALSE((BlockHandle{10, UINT64_MAX - 5}).FitsWithin(100));
}

TEST(Compression, StoresRawWhenNotWorthIt) {
  std::string out;
  std::string random(4096, '\0');
  std::mt19937_64 rng(1);
  for (char& c : random) c = static_cast<char>(rng());
  EXPECT_FALSE(CompressBlock(CompressionType::kZstd, 3, 0.125, random, &out));
  EXPECT_TRUE(out.empty());
  const std::string repetitive(4096, 'z');
  for (CompressionType type : {CompressionType::kLz4, CompressionType::kZstd}) {
    out.clear();
    EXPECT_TRUE(CompressBlock(type, 3, 0.125, repetitive, &out));
    EXPECT_LT(out.size(), repetitive.size() / 8);
  }
  EXPECT_FALSE(CompressBlock(CompressionType::kNone, 3, 0.125, repetitive, &out));
}

}  // namespace
}  // namespace learnkv
