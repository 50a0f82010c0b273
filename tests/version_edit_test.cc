#include "engine/version_edit.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "sstable/internal_key.h"
#include "util/coding.h"

namespace learnkv {
namespace {

std::string IKey(const std::string& user_key, SequenceNumber seq, ValueType t = kTypeValue) {
  std::string k;
  AppendInternalKey(&k, user_key, seq, t);
  return k;
}

FileMetaData MakeFile(uint64_t number, int i) {
  FileMetaData f;
  f.number = number;
  f.file_size = 1000 + i * 4096;
  f.smallest = IKey("apple" + std::to_string(i), 100 + i);
  f.largest = IKey("zebra" + std::to_string(i), 50 + i, kTypeDeletion);
  f.smallest_seqno = 50 + i;
  f.largest_seqno = 100 + i;
  f.num_entries = 12345 + i;
  f.num_deletions = 17 + i;
  f.index_kind = static_cast<uint8_t>(i % 3);
  f.index_bytes = 512 + i;
  f.model_max_error = 9 + i;
  f.model_mean_error = 2.25 + i;
  return f;
}

VersionEdit FullEdit() {
  VersionEdit e;
  e.SetComparatorName("learnkv.BytewiseComparator");
  e.SetLogNumber(uint64_t{1} << 40);
  e.SetNextFileNumber(777);
  e.SetLastSequence(kMaxSequenceNumber);
  for (int i = 0; i < 4; ++i) {
    e.SetCompactPointer(i, IKey("cp" + std::to_string(i), 9000 + i));
    e.RemoveFile(i + 1, 300 + i);
    e.AddFile(i % kNumLevels, MakeFile(400 + i, i));
  }
  e.AddFile(kNumLevels - 1, MakeFile(500, 9));
  return e;
}

void ExpectSameFile(const FileMetaData& a, const FileMetaData& b) {
  EXPECT_EQ(a.number, b.number);
  EXPECT_EQ(a.file_size, b.file_size);
  EXPECT_EQ(a.smallest, b.smallest);
  EXPECT_EQ(a.largest, b.largest);
  EXPECT_EQ(a.smallest_seqno, b.smallest_seqno);
  EXPECT_EQ(a.largest_seqno, b.largest_seqno);
  EXPECT_EQ(a.num_entries, b.num_entries);
  EXPECT_EQ(a.num_deletions, b.num_deletions);
  EXPECT_EQ(a.index_kind, b.index_kind);
  EXPECT_EQ(a.index_bytes, b.index_bytes);
  EXPECT_EQ(a.model_max_error, b.model_max_error);
  EXPECT_EQ(a.model_mean_error, b.model_mean_error);
}

TEST(VersionEditTest, RoundTrip) {
  const VersionEdit edit = FullEdit();
  std::string encoded;
  edit.EncodeTo(&encoded);
  VersionEdit parsed;
  ASSERT_TRUE(parsed.DecodeFrom(encoded).ok());

  EXPECT_EQ(edit.comparator_name(), parsed.comparator_name());
  EXPECT_EQ(edit.log_number(), parsed.log_number());
  EXPECT_EQ(edit.next_file_number(), parsed.next_file_number());
  EXPECT_EQ(edit.last_sequence(), parsed.last_sequence());
  EXPECT_EQ(edit.compact_pointers(), parsed.compact_pointers());
  EXPECT_EQ(edit.deleted_files(), parsed.deleted_files());
  ASSERT_EQ(edit.new_files().size(), parsed.new_files().size());
  for (size_t i = 0; i < edit.new_files().size(); ++i) {
    EXPECT_EQ(edit.new_files()[i].first, parsed.new_files()[i].first);
    ExpectSameFile(edit.new_files()[i].second, parsed.new_files()[i].second);
  }

  std::string again;
  parsed.EncodeTo(&again);
  EXPECT_EQ(encoded, again);
}

TEST(VersionEditTest, EmptyEditRoundTrip) {
  VersionEdit edit;
  std::string encoded;
  edit.EncodeTo(&encoded);
  VersionEdit parsed = FullEdit();  // DecodeFrom must replace, not merge
  ASSERT_TRUE(parsed.DecodeFrom(encoded).ok());
  EXPECT_FALSE(parsed.comparator_name().has_value());
  EXPECT_FALSE(parsed.log_number().has_value());
  EXPECT_FALSE(parsed.next_file_number().has_value());
  EXPECT_FALSE(parsed.last_sequence().has_value());
  EXPECT_TRUE(parsed.compact_pointers().empty());
  EXPECT_TRUE(parsed.deleted_files().empty());
  EXPECT_TRUE(parsed.new_files().empty());
}

TEST(VersionEditTest, EveryTruncationIsCorruption) {
  std::string encoded;
  FullEdit().EncodeTo(&encoded);
  for (size_t n = 0; n < encoded.size(); ++n) {
    VersionEdit parsed;
    Status s = parsed.DecodeFrom(Slice(encoded.data(), n));
    EXPECT_TRUE(s.IsCorruption()) << "truncated to " << n << " of " << encoded.size();
  }
}

TEST(VersionEditTest, TrailingBytesAreCorruption) {
  std::string encoded;
  FullEdit().EncodeTo(&encoded);
  encoded.push_back('\0');
  VersionEdit parsed;
  EXPECT_TRUE(parsed.DecodeFrom(encoded).IsCorruption());
}

// Builds an edit by hand: the given raw bytes, then the end marker.
Status DecodeRaw(const std::string& body) {
  std::string raw = body;
  PutVarint32(&raw, 0);
  VersionEdit parsed;
  return parsed.DecodeFrom(raw);
}

TEST(VersionEditTest, UnknownTagIsCorruption) {
  std::string body;
  PutVarint32(&body, 99);
  PutVarint64(&body, 1);
  EXPECT_TRUE(DecodeRaw(body).IsCorruption());
}

TEST(VersionEditTest, LevelOutOfRangeIsCorruption) {
  std::string body;
  PutVarint32(&body, 6);  // deleted file
  PutVarint32(&body, kNumLevels);
  PutVarint64(&body, 5);
  EXPECT_TRUE(DecodeRaw(body).IsCorruption());

  body.clear();
  PutVarint32(&body, 6);
  PutVarint32(&body, kNumLevels - 1);
  PutVarint64(&body, 5);
  EXPECT_TRUE(DecodeRaw(body).ok());
}

TEST(VersionEditTest, SequenceOutOfRangeIsCorruption) {
  std::string body;
  PutVarint32(&body, 4);  // last sequence
  PutVarint64(&body, kMaxSequenceNumber + 1);
  EXPECT_TRUE(DecodeRaw(body).IsCorruption());
}

// A new-file entry with chosen keys and extra raw file fields before the field terminator.
std::string NewFileBody(const std::string& smallest, const std::string& largest,
                        const std::string& extra_fields) {
  std::string body;
  PutVarint32(&body, 7);
  PutVarint32(&body, 1);  // level
  PutVarint64(&body, 10);
  PutVarint64(&body, 4096);
  PutLengthPrefixedSlice(&body, smallest);
  PutLengthPrefixedSlice(&body, largest);
  body += extra_fields;
  PutVarint32(&body, 0);  // end of file fields
  return body;
}

TEST(VersionEditTest, NewFileValidation) {
  EXPECT_TRUE(DecodeRaw(NewFileBody(IKey("a", 1), IKey("b", 1), "")).ok());
  EXPECT_TRUE(DecodeRaw(NewFileBody(IKey("b", 1), IKey("a", 1), "")).IsCorruption());
  EXPECT_TRUE(DecodeRaw(NewFileBody("short", IKey("a", 1), "")).IsCorruption());
  // Same user key: the newer sequence must come first.
  EXPECT_TRUE(DecodeRaw(NewFileBody(IKey("a", 5), IKey("a", 1), "")).ok());
  EXPECT_TRUE(DecodeRaw(NewFileBody(IKey("a", 1), IKey("a", 5), "")).IsCorruption());
}

TEST(VersionEditTest, FileFieldsForwardCompatible) {
  std::string field;
  // Unknown but safe to ignore: skipped.
  PutVarint32(&field, 0x40 | 5);
  PutLengthPrefixedSlice(&field, "future stats");
  EXPECT_TRUE(DecodeRaw(NewFileBody(IKey("a", 1), IKey("b", 1), field)).ok());
  // Unknown and not marked ignorable: refused.
  field.clear();
  PutVarint32(&field, 5);
  PutLengthPrefixedSlice(&field, "future stats");
  EXPECT_TRUE(DecodeRaw(NewFileBody(IKey("a", 1), IKey("b", 1), field)).IsCorruption());
}

TEST(VersionEditTest, FileFieldsValidated) {
  auto with_field = [](uint32_t tag, const std::string& payload) {
    std::string field;
    PutVarint32(&field, tag);
    PutLengthPrefixedSlice(&field, payload);
    return DecodeRaw(NewFileBody(IKey("a", 1), IKey("b", 1), field));
  };
  std::string p;
  PutVarint64(&p, 9);
  PutVarint64(&p, 3);
  EXPECT_TRUE(with_field(1, p).IsCorruption());  // smallest seqno > largest
  EXPECT_TRUE(with_field(2, p).ok());            // 9 entries, 3 deletions
  p.clear();
  PutVarint64(&p, 3);
  PutVarint64(&p, 9);
  EXPECT_TRUE(with_field(2, p).IsCorruption());        // more deletions than entries
  EXPECT_TRUE(with_field(1, p + "x").IsCorruption());  // unconsumed payload

  auto index_field = [&](double mean) {
    std::string q(1, '\x02');
    PutVarint64(&q, 100);
    PutVarint64(&q, 4);
    uint64_t bits;
    std::memcpy(&bits, &mean, sizeof(bits));
    PutFixed64(&q, bits);
    return with_field(3, q);
  };
  EXPECT_TRUE(index_field(1.5).ok());
  EXPECT_TRUE(index_field(-1.0).IsCorruption());
  EXPECT_TRUE(index_field(std::numeric_limits<double>::quiet_NaN()).IsCorruption());
  EXPECT_TRUE(index_field(std::numeric_limits<double>::infinity()).IsCorruption());
}

TEST(VersionEditTest, DebugString) {
  const std::string s = FullEdit().DebugString();
  EXPECT_NE(std::string::npos, s.find("Comparator: learnkv.BytewiseComparator"));
  EXPECT_NE(std::string::npos, s.find("NextFile: 777"));
  EXPECT_NE(std::string::npos, s.find("RemoveFile: L1 #300"));
  EXPECT_NE(std::string::npos, s.find("AddFile: L0 #400"));
  EXPECT_NE(std::string::npos, s.find("'apple0' @ 100 : 1"));
  EXPECT_NE(std::string::npos, s.find("max error 9"));
}

TEST(VersionEditTest, ClearResets) {
  VersionEdit e = FullEdit();
  e.Clear();
  std::string a, b;
  e.EncodeTo(&a);
  VersionEdit().EncodeTo(&b);
  EXPECT_EQ(b, a);
}

}  // namespace
}  // namespace learnkv
