// Table format tests: one harness checks every reader operation against the sorted input,
// parameterized over index type x compression x data set x size, so that the learned and the
// classic index answer the same checks on the same data blocks. Then the index decision
// (kAuto on smooth and adversarial keys) and edge cases.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "learnkv/table_options.h"
#include "sstable/block_cache.h"
#include "sstable/internal_key.h"
#include "sstable/table_builder.h"
#include "sstable/table_reader.h"
#include "tests/support/string_file.h"
#include "util/datasets.h"

namespace learnkv {
namespace {

using test::StringSink;
using test::StringSource;

struct Entry {
  std::string key;  // internal key
  std::string value;
};

bool EntryLess(const Entry& a, const Entry& b) { return CompareInternalKeys(a.key, b.key) < 0; }

std::string Ikey(const std::string& user_key, SequenceNumber seq, ValueType type) {
  std::string k;
  AppendInternalKey(&k, user_key, seq, type);
  return k;
}

// Entries for sorted unique user keys: every fifth user key has three versions (a value, a
// merge, a deletion, newest first), the others one; values of varied length.
std::vector<Entry> MakeEntries(const std::vector<std::string>& user_keys, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Entry> entries;
  for (size_t i = 0; i < user_keys.size(); ++i) {
    const int versions = i % 5 == 0 ? 3 : 1;
    const SequenceNumber newest = 100 + rng() % 1000000;
    for (int v = 0; v < versions; ++v) {
      const ValueType type = v == 0 ? kTypeValue : (v == 1 ? kTypeMerge : kTypeDeletion);
      std::string value = "v" + std::to_string(i) + "." + std::to_string(v) + ":";
      value.append(rng() % 48, static_cast<char>('a' + i % 26));
      entries.push_back({Ikey(user_keys[i], newest - 3 * v, type), std::move(value)});
    }
  }
  return entries;
}

Status BuildTable(const TableOptions& options, const std::vector<Entry>& entries,
                  std::string* contents, TableProperties* props = nullptr) {
  StringSink sink;
  TableBuilder builder(options, &sink);
  for (const Entry& e : entries) builder.Add(e.key, e.value);
  Status s = builder.Finish();
  EXPECT_EQ(builder.NumEntries(), entries.size());
  EXPECT_EQ(builder.FileSize(), sink.contents().size());
  if (props != nullptr) *props = builder.properties();
  *contents = sink.contents();
  return s;
}

Status OpenTable(const TableOptions& options, const std::string& contents,
                 std::unique_ptr<TableReader>* reader) {
  return TableReader::Open(options, "000042.sst", std::make_unique<StringSource>(contents),
                           contents.size(), reader);
}

std::vector<Entry> GetAll(const TableReader& reader, const Slice& lookup, size_t limit = SIZE_MAX) {
  std::vector<Entry> out;
  Status s = reader.Get(lookup, [&](const Slice& k, const Slice& v) {
    out.push_back({k.ToString(), v.ToString()});
    return out.size() < limit;
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

void ExpectSameEntries(const std::vector<Entry>& got, const std::vector<Entry>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(Slice(got[i].key).ToHex(), Slice(want[i].key).ToHex()) << "entry " << i;
    ASSERT_EQ(got[i].value, want[i].value) << "entry " << i;
  }
}

struct Param {
  IndexType index;
  CompressionType compression;
  Dataset dataset;
  size_t num_keys;
};

std::string ParamName(const testing::TestParamInfo<Param>& info) {
  const Param& p = info.param;
  return std::string(IndexTypeName(p.index)) + "_" + CompressionTypeName(p.compression) + "_" +
         DatasetName(p.dataset) + "_" + std::to_string(p.num_keys);
}

class TableHarness : public testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    const Param& p = GetParam();
    user_keys_ = GenerateSortedKeys(p.dataset, p.num_keys, 7);
    entries_ = MakeEntries(user_keys_, 11);
    absent_ =
        GenerateAbsentKeys(p.dataset, user_keys_, std::min<size_t>(2000, p.num_keys + 50), 13);
    options_.index_type = p.index;
    options_.compression = p.compression;
    options_.block_size = 1024;  // many blocks even for small tables
    options_.block_cache = NewBlockCache(8 << 20);
    ASSERT_TRUE(BuildTable(options_, entries_, &contents_, &built_props_).ok());
    Status s = OpenTable(options_, contents_, &reader_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // The versions of user_keys_[i] within entries_.
  std::vector<Entry> VersionsOf(const std::string& user_key) const {
    std::vector<Entry> out;
    auto it = std::lower_bound(entries_.begin(), entries_.end(),
                               Entry{Ikey(user_key, kMaxSequenceNumber, kValueTypeForSeek), ""},
                               EntryLess);
    for (; it != entries_.end() && ExtractUserKey(it->key) == Slice(user_key); ++it) {
      out.push_back(*it);
    }
    return out;
  }

  // Seek targets: existing keys, present user keys at other sequence numbers, absent ones.
  std::vector<std::string> SeekTargets() const {
    std::mt19937_64 rng(17);
    std::vector<std::string> targets;
    for (int i = 0; i < 600; ++i) {
      const int kind = i % 3;
      if (kind == 0 && !entries_.empty()) {
        targets.push_back(entries_[rng() % entries_.size()].key);
      } else if (kind == 1 && !user_keys_.empty()) {
        targets.push_back(Ikey(user_keys_[rng() % user_keys_.size()], rng() % 2000000, kTypeValue));
      } else if (!absent_.empty()) {
        targets.push_back(Ikey(absent_[rng() % absent_.size()], rng() % 2000000, kTypeValue));
      }
    }
    targets.push_back(Ikey("", kMaxSequenceNumber, kValueTypeForSeek));
    targets.push_back(Ikey(std::string(40, '\xff'), 0, kTypeDeletion));
    return targets;
  }

  // The checks, each against the sorted input.
  void GetFindsEveryVersionOfPresentKeys();
  void GetReportsAbsentKeysAbsent();
  void IterationMatchesInput();
  void SeekAndSeekForPrevAgreeWithTheInput();
  void MultiGetAgreesWithGet();
  void PropertiesRoundTrip();
  void ApproximateOffsetsAreMonotone();
  void ReaderWithoutCacheAgrees();

  TableOptions options_;
  std::vector<std::string> user_keys_;
  std::vector<std::string> absent_;
  std::vector<Entry> entries_;
  std::string contents_;
  TableProperties built_props_;
  std::unique_ptr<TableReader> reader_;
};

void TableHarness::GetFindsEveryVersionOfPresentKeys() {
  for (size_t i = 0; i < user_keys_.size(); ++i) {
    const std::vector<Entry> versions = VersionsOf(user_keys_[i]);
    const LookupKey newest(user_keys_[i], kMaxSequenceNumber);
    ASSERT_NO_FATAL_FAILURE(ExpectSameEntries(GetAll(*reader_, newest.internal_key()), versions))
        << "user key " << i;
    ASSERT_NO_FATAL_FAILURE(
        ExpectSameEntries(GetAll(*reader_, newest.internal_key(), 1), {versions[0]}));
    if (versions.size() > 1) {
      // A snapshot between versions starts at the newest version it can see.
      ParsedInternalKey second;
      ASSERT_TRUE(ParseInternalKey(versions[1].key, &second));
      const LookupKey at_snapshot(user_keys_[i], second.sequence + 1);
      std::vector<Entry> visible(versions.begin() + 1, versions.end());
      ASSERT_NO_FATAL_FAILURE(
          ExpectSameEntries(GetAll(*reader_, at_snapshot.internal_key()), visible));
    }
  }
}

void TableHarness::GetReportsAbsentKeysAbsent() {
  for (const std::string& k : absent_) {
    EXPECT_TRUE(GetAll(*reader_, LookupKey(k, kMaxSequenceNumber).internal_key()).empty());
  }
  // A present user key below its oldest version's sequence number sees nothing.
  for (size_t i = 0; i < user_keys_.size(); i += 97) {
    const std::vector<Entry> versions = VersionsOf(user_keys_[i]);
    ParsedInternalKey oldest;
    ASSERT_TRUE(ParseInternalKey(versions.back().key, &oldest));
    if (oldest.sequence == 0) continue;
    EXPECT_TRUE(
        GetAll(*reader_, LookupKey(user_keys_[i], oldest.sequence - 1).internal_key()).empty());
  }
}

void TableHarness::IterationMatchesInput() {
  std::unique_ptr<Iterator> it = reader_->NewIterator();
  std::vector<Entry> forward;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    forward.push_back({it->key().ToString(), it->value().ToString()});
  }
  ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  ASSERT_NO_FATAL_FAILURE(ExpectSameEntries(forward, entries_));

  std::vector<Entry> backward;
  for (it->SeekToLast(); it->Valid(); it->Prev()) {
    backward.push_back({it->key().ToString(), it->value().ToString()});
  }
  ASSERT_TRUE(it->status().ok());
  std::reverse(backward.begin(), backward.end());
  ASSERT_NO_FATAL_FAILURE(ExpectSameEntries(backward, entries_));
}

void TableHarness::SeekAndSeekForPrevAgreeWithTheInput() {
  std::unique_ptr<Iterator> it = reader_->NewIterator();
  for (const std::string& target : SeekTargets()) {
    const Entry probe{target, ""};
    auto lb = std::lower_bound(entries_.begin(), entries_.end(), probe, EntryLess);
    it->Seek(target);
    ASSERT_TRUE(it->status().ok());
    if (lb == entries_.end()) {
      EXPECT_FALSE(it->Valid()) << Slice(target).ToHex();
    } else {
      ASSERT_TRUE(it->Valid()) << Slice(target).ToHex();
      EXPECT_EQ(it->key(), Slice(lb->key));
      EXPECT_EQ(it->value(), Slice(lb->value));
      // A step back from the lower bound lands on its predecessor.
      it->Prev();
      if (lb == entries_.begin()) {
        EXPECT_FALSE(it->Valid());
      } else {
        ASSERT_TRUE(it->Valid());
        EXPECT_EQ(it->key(), Slice((lb - 1)->key));
      }
    }
    auto ub = std::upper_bound(entries_.begin(), entries_.end(), probe, EntryLess);
    it->SeekForPrev(target);
    ASSERT_TRUE(it->status().ok());
    if (ub == entries_.begin()) {
      EXPECT_FALSE(it->Valid()) << Slice(target).ToHex();
    } else {
      ASSERT_TRUE(it->Valid()) << Slice(target).ToHex();
      EXPECT_EQ(it->key(), Slice((ub - 1)->key));
      EXPECT_EQ(it->value(), Slice((ub - 1)->value));
    }
  }
}

void TableHarness::MultiGetAgreesWithGet() {
  std::vector<std::string> lookups;
  for (size_t i = 0; i < user_keys_.size(); i += 3) {
    lookups.push_back(LookupKey(user_keys_[i], kMaxSequenceNumber).internal_key().ToString());
    if (i % 2 == 0 && i / 3 < absent_.size()) {
      lookups.push_back(LookupKey(absent_[i / 3], kMaxSequenceNumber).internal_key().ToString());
    }
  }
  std::vector<Slice> keys(lookups.begin(), lookups.end());
  std::vector<std::vector<Entry>> got(keys.size());
  std::vector<Status> statuses(keys.size());
  reader_->MultiGet(
      keys.data(), keys.size(),
      [&](size_t i, const Slice& k, const Slice& v) {
        got[i].push_back({k.ToString(), v.ToString()});
        return true;
      },
      statuses.data());
  for (size_t i = 0; i < keys.size(); ++i) {
    ASSERT_TRUE(statuses[i].ok());
    ASSERT_NO_FATAL_FAILURE(ExpectSameEntries(got[i], GetAll(*reader_, keys[i])));
  }
  // Predictions computed elsewhere (an accelerator) give the same answers.
  std::vector<ApproxPos> predicted(keys.size());
  reader_->PredictBounds(keys.data(), keys.size(), predicted.data());
  std::vector<std::vector<Entry>> again(keys.size());
  reader_->MultiGet(
      keys.data(), keys.size(),
      [&](size_t i, const Slice& k, const Slice& v) {
        again[i].push_back({k.ToString(), v.ToString()});
        return true;
      },
      statuses.data(), predicted.data());
  for (size_t i = 0; i < keys.size(); ++i)
    ASSERT_NO_FATAL_FAILURE(ExpectSameEntries(again[i], got[i]));
}

void TableHarness::PropertiesRoundTrip() {
  const TableProperties& p = reader_->properties();
  EXPECT_EQ(p.ToString(), built_props_.ToString());
  EXPECT_EQ(p.num_entries, entries_.size());
  EXPECT_EQ(reader_->num_entries(), entries_.size());
  uint64_t key_bytes = 0, value_bytes = 0;
  for (const Entry& e : entries_) {
    key_bytes += e.key.size();
    value_bytes += e.value.size();
  }
  EXPECT_EQ(p.raw_key_bytes, key_bytes);
  EXPECT_EQ(p.raw_value_bytes, value_bytes);
  EXPECT_EQ(p.compression, GetParam().compression);
  ASSERT_GE(p.records_per_block, 1u);
  EXPECT_EQ(p.num_data_blocks, (entries_.size() + p.records_per_block - 1) / p.records_per_block);
  EXPECT_LE(p.data_bytes, contents_.size());
  if (entries_.empty()) {
    EXPECT_EQ(p.index_type, IndexType::kBlock);
    EXPECT_FALSE(p.fallback_reason.empty());
    EXPECT_TRUE(reader_->smallest_key().empty());
  } else {
    EXPECT_EQ(p.index_type, GetParam().index);
    EXPECT_EQ(reader_->index_type(), GetParam().index);
    EXPECT_EQ(reader_->smallest_key(), Slice(entries_.front().key));
    EXPECT_EQ(reader_->largest_key(), Slice(entries_.back().key));
    EXPECT_EQ(reader_->model() != nullptr, GetParam().index == IndexType::kLearned);
  }
  EXPECT_GT(reader_->IndexMemoryUsage(), 0u);
  EXPECT_GE(reader_->ApproximateMemoryUsage(), reader_->IndexMemoryUsage());
}

void TableHarness::ApproximateOffsetsAreMonotone() {
  uint64_t last = 0;
  for (size_t i = 0; i < entries_.size(); i += 1 + entries_.size() / 200) {
    const uint64_t offset = reader_->ApproximateOffsetOf(entries_[i].key);
    EXPECT_GE(offset, last);
    EXPECT_LE(offset, reader_->properties().data_bytes);
    last = offset;
  }
  EXPECT_EQ(reader_->ApproximateOffsetOf(Ikey(std::string(50, '\xff'), 0, kTypeValue)),
            reader_->properties().data_bytes);
}

void TableHarness::ReaderWithoutCacheAgrees() {
  TableOptions no_cache = options_;
  no_cache.block_cache = nullptr;
  std::unique_ptr<TableReader> reader;
  ASSERT_TRUE(OpenTable(no_cache, contents_, &reader).ok());
  for (size_t i = 0; i < user_keys_.size(); i += 7) {
    const LookupKey lk(user_keys_[i], kMaxSequenceNumber);
    ASSERT_NO_FATAL_FAILURE(
        ExpectSameEntries(GetAll(*reader, lk.internal_key()), VersionsOf(user_keys_[i])));
  }
  std::unique_ptr<Iterator> it = reader->NewIterator();
  size_t count = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++count;
  EXPECT_EQ(count, entries_.size());
}

// One table per parameter set, every check on it (building is the expensive part under the
// sanitizers).
TEST_P(TableHarness, AgreesWithTheInput) {
  {
    SCOPED_TRACE("GetFindsEveryVersionOfPresentKeys");
    ASSERT_NO_FATAL_FAILURE(GetFindsEveryVersionOfPresentKeys());
  }
  {
    SCOPED_TRACE("GetReportsAbsentKeysAbsent");
    ASSERT_NO_FATAL_FAILURE(GetReportsAbsentKeysAbsent());
  }
  {
    SCOPED_TRACE("IterationMatchesInput");
    ASSERT_NO_FATAL_FAILURE(IterationMatchesInput());
  }
  {
    SCOPED_TRACE("SeekAndSeekForPrevAgreeWithTheInput");
    ASSERT_NO_FATAL_FAILURE(SeekAndSeekForPrevAgreeWithTheInput());
  }
  {
    SCOPED_TRACE("MultiGetAgreesWithGet");
    ASSERT_NO_FATAL_FAILURE(MultiGetAgreesWithGet());
  }
  {
    SCOPED_TRACE("PropertiesRoundTrip");
    ASSERT_NO_FATAL_FAILURE(PropertiesRoundTrip());
  }
  {
    SCOPED_TRACE("ApproximateOffsetsAreMonotone");
    ASSERT_NO_FATAL_FAILURE(ApproximateOffsetsAreMonotone());
  }
  {
    SCOPED_TRACE("ReaderWithoutCacheAgrees");
    ASSERT_NO_FATAL_FAILURE(ReaderWithoutCacheAgrees());
  }
}

std::vector<Param> AllParams() {
  std::vector<Param> params;
  for (IndexType index : {IndexType::kLearned, IndexType::kBlock}) {
    for (CompressionType c : {CompressionType::kNone, CompressionType::kZstd}) {
      for (Dataset d : AllDatasets()) {
        for (size_t n : {0, 1, 2000, 12000}) params.push_back({index, c, d, n});
      }
    }
    params.push_back({index, CompressionType::kLz4, Dataset::kYcsb, 5000});
  }
  return params;
}

INSTANTIATE_TEST_SUITE_P(All, TableHarness, testing::ValuesIn(AllParams()), ParamName);

// ---- The index decision ----

std::vector<Entry> SingleVersionEntries(const std::vector<std::string>& user_keys,
                                        size_t value_size = 0) {
  std::vector<Entry> entries;
  for (size_t i = 0; i < user_keys.size(); ++i) {
    std::string value = "value" + std::to_string(i);
    value.resize(std::max(value.size(), value_size), '.');
    entries.push_back({Ikey(user_keys[i], 5, kTypeValue), std::move(value)});
  }
  return entries;
}

// Keys that all map to the same number (they agree on the 8 bytes after the common prefix of
// the first and last key), so no model can narrow the window below the whole table.
std::vector<std::string> CollidingKeys(size_t n) {
  std::vector<std::string> keys = {"0"};
  for (size_t i = 0; i < n; ++i) {
    char suffix[32];
    snprintf(suffix, sizeof(suffix), "%08zu", i);
    // Past the 16 bytes that a key mapping reads after the common prefix: every key collides.
    keys.push_back(std::string(16, 'a') + suffix);
  }
  keys.push_back("z");
  return keys;
}

TEST(TableIndexChoice, AutoPicksLearnedOnSmoothData) {
  for (Dataset d : {Dataset::kUniformDense, Dataset::kUniformSparse, Dataset::kNormal}) {
    // 16-byte internal keys and 100-byte values, as the benchmark's.
    const std::vector<Entry> entries = SingleVersionEntries(GenerateSortedKeys(d, 50000, 3), 100);
    TableOptions options;  // kAuto
    std::string contents;
    TableProperties props;
    ASSERT_TRUE(BuildTable(options, entries, &contents, &props).ok());
    EXPECT_EQ(props.index_type, IndexType::kLearned) << DatasetName(d) << "\n" << props.ToString();
    EXPECT_TRUE(props.fallback_reason.empty());
    EXPECT_LT(props.learned_cost, props.block_cost);
    // The learned index must be far smaller than the classic one of the same table.
    TableOptions block = options;
    block.index_type = IndexType::kBlock;
    TableProperties block_props;
    ASSERT_TRUE(BuildTable(block, entries, &contents, &block_props).ok());
    EXPECT_LE(static_cast<double>(props.index_bytes), 0.1 * block_props.index_bytes)
        << DatasetName(d) << ": learned " << props.index_bytes << " vs block "
        << block_props.index_bytes;
  }
}

TEST(TableIndexChoice, AutoFallsBackOnAdversarialKeys) {
  const std::vector<Entry> entries = SingleVersionEntries(CollidingKeys(20000));
  TableOptions options;
  options.block_size = 1024;
  std::string contents;
  TableProperties props;
  ASSERT_TRUE(BuildTable(options, entries, &contents, &props).ok());
  EXPECT_EQ(props.index_type, IndexType::kBlock);
  EXPECT_NE(props.fallback_reason.find("rmi mean window"), std::string::npos)
      << props.fallback_reason;
  EXPECT_NE(props.fallback_reason.find("block index cheaper"), std::string::npos);
  std::unique_ptr<TableReader> reader;
  ASSERT_TRUE(OpenTable(options, contents, &reader).ok());
  EXPECT_EQ(reader->properties().fallback_reason, props.fallback_reason);
}

// Forcing the model onto keys it cannot fit costs speed, never answers.
TEST(TableIndexChoice, ForcedLearnedIndexStaysCorrectOnAdversarialKeys) {
  const std::vector<std::string> user_keys = CollidingKeys(5000);
  const std::vector<Entry> entries = SingleVersionEntries(user_keys);
  TableOptions options;
  options.index_type = IndexType::kLearned;
  options.block_size = 512;
  std::string contents;
  ASSERT_TRUE(BuildTable(options, entries, &contents).ok());
  std::unique_ptr<TableReader> reader;
  ASSERT_TRUE(OpenTable(options, contents, &reader).ok());
  ASSERT_EQ(reader->index_type(), IndexType::kLearned);
  for (size_t i = 0; i < entries.size(); ++i) {
    ASSERT_NO_FATAL_FAILURE(ExpectSameEntries(
        GetAll(*reader, LookupKey(user_keys[i], kMaxSequenceNumber).internal_key()), {entries[i]}));
  }
  EXPECT_TRUE(GetAll(*reader, LookupKey("aaaaaaaa00000000x", 9).internal_key()).empty());
  EXPECT_TRUE(GetAll(*reader, LookupKey("aaaaaaaa", 9).internal_key()).empty());
}

// ---- Edge cases ----

TEST(TableEdgeCases, ManyVersionsOfOneUserKeySpanBlocks) {
  std::vector<Entry> entries;
  entries.push_back({Ikey("a", 1, kTypeValue), "a"});
  for (SequenceNumber seq = 3000; seq > 1000; --seq) {
    entries.push_back({Ikey("key", seq, seq % 3 == 0 ? kTypeDeletion : kTypeValue),
                       "value@" + std::to_string(seq)});
  }
  entries.push_back({Ikey("zz", 1, kTypeValue), "z"});
  for (IndexType index : {IndexType::kLearned, IndexType::kBlock}) {
    TableOptions options;
    options.index_type = index;
    options.block_size = 256;
    std::string contents;
    ASSERT_TRUE(BuildTable(options, entries, &contents).ok());
    std::unique_ptr<TableReader> reader;
    ASSERT_TRUE(OpenTable(options, contents, &reader).ok());
    for (SequenceNumber snapshot :
         {SequenceNumber{5000}, SequenceNumber{2999}, SequenceNumber{1500}, SequenceNumber{1003}}) {
      const std::vector<Entry> got = GetAll(*reader, LookupKey("key", snapshot).internal_key(), 3);
      ASSERT_EQ(got.size(), 3u);
      const SequenceNumber first = std::min<SequenceNumber>(snapshot, 3000);
      EXPECT_EQ(got[0].value, "value@" + std::to_string(first));
    }
    EXPECT_TRUE(GetAll(*reader, LookupKey("key", 1000).internal_key()).empty());
    EXPECT_EQ(GetAll(*reader, LookupKey("key", kMaxSequenceNumber).internal_key()).size(), 2000u);
  }
}

TEST(TableEdgeCases, LargeValuesUseWideOffsets) {
  std::vector<Entry> entries;
  for (int i = 0; i < 40; ++i) {
    entries.push_back({Ikey("k" + std::to_string(100 + i), 1, kTypeValue),
                       std::string(i % 4 == 0 ? 70000 : 10, static_cast<char>('a' + i % 26))});
  }
  for (IndexType index : {IndexType::kLearned, IndexType::kBlock}) {
    TableOptions options;
    options.index_type = index;
    options.compression = CompressionType::kNone;
    std::string contents;
    ASSERT_TRUE(BuildTable(options, entries, &contents).ok());
    std::unique_ptr<TableReader> reader;
    ASSERT_TRUE(OpenTable(options, contents, &reader).ok());
    std::unique_ptr<Iterator> it = reader->NewIterator();
    size_t i = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++i) {
      ASSERT_LT(i, entries.size());
      EXPECT_EQ(it->key(), Slice(entries[i].key));
      EXPECT_EQ(it->value(), Slice(entries[i].value));
    }
    EXPECT_EQ(i, entries.size());
  }
}

TEST(TableEdgeCases, BuilderRejectsBadKeys) {
  StringSink sink;
  TableBuilder builder(TableOptions(), &sink);
  builder.Add(Ikey("b", 1, kTypeValue), "x");
  builder.Add(Ikey("a", 1, kTypeValue), "y");
  EXPECT_TRUE(builder.status().IsInvalidArgument());
  builder.Add(Ikey("c", 1, kTypeValue), "z");  // ignored after the first error
  EXPECT_EQ(builder.NumEntries(), 1u);
  EXPECT_TRUE(builder.Finish().IsInvalidArgument());

  TableBuilder short_key(TableOptions(), &sink);
  short_key.Add("abc", "x");
  EXPECT_TRUE(short_key.status().IsInvalidArgument());
  short_key.Abandon();
}

TEST(TableEdgeCases, ShortSeekTargetsActAsBareUserKeys) {
  std::vector<Entry> entries = SingleVersionEntries({"ab", "abc", "b"});
  std::string contents;
  ASSERT_TRUE(BuildTable(TableOptions(), entries, &contents).ok());
  std::unique_ptr<TableReader> reader;
  ASSERT_TRUE(OpenTable(TableOptions(), contents, &reader).ok());
  std::unique_ptr<Iterator> it = reader->NewIterator();
  it->Seek("abc");  // before every entry of user key "abc"
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(ExtractUserKey(it->key()), Slice("abc"));
  it->Seek("c");
  EXPECT_FALSE(it->Valid());
}

TEST(TableEdgeCases, ForeignFileIsCorruption) {
  std::unique_ptr<TableReader> reader;
  Status s = OpenTable(TableOptions(), std::string(4096, 'x'), &reader);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.ToString().find("000042.sst"), std::string::npos) << s.ToString();
  EXPECT_NE(s.ToString().find("magic"), std::string::npos) << s.ToString();
  s = OpenTable(TableOptions(), "tiny", &reader);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.ToString().find("at offset 0"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace learnkv
