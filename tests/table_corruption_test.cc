// Damaged tables: every byte of a small table flipped in turn (data blocks, model block with
// its locator, classic index, properties, metaindex, footer), and every truncation. With
// checksums verified, each read returns the right answer or a Corruption naming the file and
// an offset — never a wrong value, never a crash. Without verification the decoders' own
// checks must still keep every read in bounds (this test runs under ASan too).
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "sstable/block_cache.h"
#include "sstable/format.h"
#include "sstable/internal_key.h"
#include "sstable/table_builder.h"
#include "sstable/table_reader.h"
#include "tests/support/string_file.h"

namespace learnkv {
namespace {

constexpr char kFileName[] = "000099.sst";

struct Entry {
  std::string key;
  std::string value;
};

std::vector<Entry> MakeEntries() {
  std::vector<Entry> entries;
  for (int i = 0; i < 120; ++i) {
    char user_key[32];
    snprintf(user_key, sizeof(user_key), "key%05d", i * 7);
    const int versions = i % 10 == 0 ? 2 : 1;
    for (int v = 0; v < versions; ++v) {
      std::string k;
      AppendInternalKey(&k, user_key, 100 - v, v == 0 ? kTypeValue : kTypeDeletion);
      entries.push_back({k, std::string(10 + i % 13, static_cast<char>('a' + i % 26))});
    }
  }
  return entries;
}

// Where each part of the file lies, from its footer and metaindex.
std::map<std::string, std::pair<uint64_t, uint64_t>> Regions(const std::string& file,
                                                             const TableProperties& props) {
  Footer footer;
  EXPECT_TRUE(footer.DecodeFrom(Slice(file).ToStringView().substr(file.size() - 48)).ok());
  std::map<std::string, std::pair<uint64_t, uint64_t>> regions;
  regions["data"] = {0, props.data_bytes};
  regions[footer.index_type == IndexType::kLearned ? "model" : "index"] = {
      footer.index.offset, footer.index.offset + footer.index.size + kBlockTrailerSize};
  regions["metaindex"] = {footer.metaindex.offset,
                          footer.metaindex.offset + footer.metaindex.size + kBlockTrailerSize};
  regions["properties"] = {footer.index.offset + footer.index.size + kBlockTrailerSize,
                           footer.metaindex.offset};
  regions["footer"] = {file.size() - Footer::kEncodedLength, file.size()};
  return regions;
}

void ExpectNamesFileAndOffset(const Status& s) {
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.ToString().find(kFileName), std::string::npos) << s.ToString();
  EXPECT_NE(s.ToString().find(" at offset "), std::string::npos) << s.ToString();
}

// Reads everything from a (possibly damaged) table. With `strict`, every answer must be right
// or an error that names the file and an offset. Returns whether any read reported an error.
bool ReadAll(const TableReader& reader, const std::vector<Entry>& entries, bool strict) {
  bool error = false;
  std::unique_ptr<Iterator> it = reader.NewIterator();
  size_t i = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++i) {
    if (strict) {
      EXPECT_LT(i, entries.size());
      if (i >= entries.size()) break;
      EXPECT_EQ(it->key(), Slice(entries[i].key));
      EXPECT_EQ(it->value(), Slice(entries[i].value));
    }
  }
  if (!it->status().ok()) {
    error = true;
    if (strict) ExpectNamesFileAndOffset(it->status());
  } else if (strict) {
    EXPECT_EQ(i, entries.size());
  }
  for (it->SeekToLast(); it->Valid(); it->Prev()) {
  }
  for (size_t j = 0; j < entries.size(); j += 3) {
    it->Seek(entries[j].key);
    if (strict && it->status().ok()) {
      EXPECT_TRUE(it->Valid());
      if (it->Valid()) {
        EXPECT_EQ(it->key(), Slice(entries[j].key));
      }
    }
    it->SeekForPrev(entries[j].key);
  }
  for (const Entry& e : entries) {
    std::vector<std::string> got;
    Status s = reader.Get(e.key, [&](const Slice& k, const Slice& v) {
      got.push_back(k.ToString() + "=" + v.ToString());
      return false;
    });
    if (!s.ok()) {
      error = true;
      if (strict) ExpectNamesFileAndOffset(s);
    } else if (strict) {
      EXPECT_EQ(got.size(), 1u) << "present key reported absent without an error";
      if (got.size() == 1) {
        EXPECT_EQ(got[0], e.key + "=" + e.value);
      }
    }
  }
  std::vector<Slice> keys;
  for (const Entry& e : entries) keys.push_back(e.key);
  std::vector<Status> statuses(keys.size());
  reader.MultiGet(
      keys.data(), keys.size(), [&](size_t, const Slice&, const Slice&) { return false; },
      statuses.data());
  for (const Entry& e : entries) reader.ApproximateOffsetOf(e.key);
  return error;
}

struct Config {
  IndexType index;
  CompressionType compression;
};

class TableCorruption : public testing::TestWithParam<Config> {
 protected:
  void SetUp() override {
    entries_ = MakeEntries();
    options_.index_type = GetParam().index;
    options_.compression = GetParam().compression;
    options_.block_size = 256;
    test::StringSink sink;
    TableBuilder builder(options_, &sink);
    for (const Entry& e : entries_) builder.Add(e.key, e.value);
    ASSERT_TRUE(builder.Finish().ok());
    file_ = sink.contents();
    props_ = builder.properties();
    ASSERT_EQ(props_.index_type, GetParam().index);
    ASSERT_GT(props_.num_data_blocks, 5u);
  }

  Status Open(const TableOptions& options, std::string contents,
              std::unique_ptr<TableReader>* reader) {
    const uint64_t size = contents.size();
    return TableReader::Open(options, kFileName,
                             std::make_unique<test::StringSource>(std::move(contents)), size,
                             reader);
  }

  TableOptions options_;
  std::vector<Entry> entries_;
  std::string file_;
  TableProperties props_;
};

TEST_P(TableCorruption, IntactTableReadsBack) {
  std::unique_ptr<TableReader> reader;
  ASSERT_TRUE(Open(options_, file_, &reader).ok());
  EXPECT_FALSE(ReadAll(*reader, entries_, true));
}

TEST_P(TableCorruption, EveryFlippedByteIsDetectedOrHarmless) {
  const auto regions = Regions(file_, props_);
  std::map<std::string, int> detected;
  for (size_t i = 0; i < file_.size(); ++i) {
    std::string damaged = file_;
    damaged[i] ^= static_cast<char>(1u << (i % 8));
    TableOptions options = options_;
    options.block_cache = NewBlockCache(1 << 20);
    std::unique_ptr<TableReader> reader;
    Status s = Open(options, damaged, &reader);
    bool error = !s.ok();
    if (!s.ok()) {
      ExpectNamesFileAndOffset(s);
    } else {
      error = ReadAll(*reader, entries_, true);
    }
    if (HasFailure()) {
      ADD_FAILURE() << "after flipping byte " << i;
      return;
    }
    for (const auto& [name, range] : regions) {
      if (i >= range.first && i < range.second && error) detected[name]++;
    }
  }
  // Every region's checksum catches damage to it.
  for (const auto& [name, range] : regions) {
    EXPECT_EQ(detected[name], static_cast<int>(range.second - range.first)) << name;
  }
}

TEST_P(TableCorruption, UnverifiedDamageStaysInBounds) {
  TableOptions options = options_;
  options.verify_checksums = false;
  const uint8_t flips[] = {0x01, 0x80, 0xff, 0x10};
  for (size_t i = 0; i < file_.size(); ++i) {
    std::string damaged = file_;
    damaged[i] ^= static_cast<char>(flips[i % 4]);
    options.block_cache = NewBlockCache(1 << 20);
    std::unique_ptr<TableReader> reader;
    Status s = Open(options, damaged, &reader);
    if (!s.ok()) {
      EXPECT_TRUE(s.IsCorruption()) << s.ToString();
      continue;
    }
    ReadAll(*reader, entries_, false);  // whatever it answers, it must not crash
  }
}

TEST_P(TableCorruption, EveryTruncationIsCorruption) {
  for (size_t len = 0; len < file_.size(); ++len) {
    std::unique_ptr<TableReader> reader;
    Status s = Open(options_, file_.substr(0, len), &reader);
    ASSERT_FALSE(s.ok()) << "opened a table truncated to " << len << " bytes";
    ExpectNamesFileAndOffset(s);
  }
}

TEST_P(TableCorruption, ChecksumMismatchNamesTheBlock) {
  // Damage the second data block: the error must name its offset. Its middle record, so that
  // ApproximateOffsetOf (a model's prediction for a learned table) lands in that block.
  std::unique_ptr<TableReader> intact;
  ASSERT_TRUE(Open(options_, file_, &intact).ok());
  std::unique_ptr<Iterator> it = intact->NewIterator();
  it->SeekToFirst();
  for (uint64_t i = 0; i < props_.records_per_block * 3 / 2; ++i) it->Next();
  ASSERT_TRUE(it->Valid());
  const uint64_t second_block = intact->ApproximateOffsetOf(it->key());
  ASSERT_GT(second_block, 0u);
  std::string damaged = file_;
  damaged[second_block + 3] ^= 0x10;
  std::unique_ptr<TableReader> reader;
  ASSERT_TRUE(Open(options_, damaged, &reader).ok());
  Status s = reader->Get(it->key(), [](const Slice&, const Slice&) { return true; });
  EXPECT_EQ(s.ToString(), std::string("Corruption: ") + kFileName +
                              ": block checksum mismatch at offset " +
                              std::to_string(second_block));
}

TEST_P(TableCorruption, ForeignFilesAreCorruption) {
  std::unique_ptr<TableReader> reader;
  std::string foreign = file_;
  foreign[foreign.size() - 1] ^= 0x01;  // the magic number's last byte
  Status s = Open(options_, foreign, &reader);
  ExpectNamesFileAndOffset(s);
  EXPECT_NE(s.ToString().find("magic"), std::string::npos);
  s = Open(options_, std::string(1000, '\0'), &reader);
  ExpectNamesFileAndOffset(s);
}

INSTANTIATE_TEST_SUITE_P(All, TableCorruption,
                         testing::Values(Config{IndexType::kLearned, CompressionType::kNone},
                                         Config{IndexType::kLearned, CompressionType::kZstd},
                                         Config{IndexType::kBlock, CompressionType::kNone},
                                         Config{IndexType::kBlock, CompressionType::kLz4}),
                         [](const testing::TestParamInfo<Config>& info) {
                           return std::string(IndexTypeName(info.param.index)) + "_" +
                                  CompressionTypeName(info.param.compression);
                         });

}  // namespace
}  // namespace learnkv
