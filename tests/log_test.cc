#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/log_format.h"
#include "engine/log_reader.h"
#include "engine/log_writer.h"
#include "learnkv/env.h"
#include "tests/support/test_util.h"
#include "util/checksum.h"
#include "util/coding.h"
#include "util/mem_env.h"

namespace learnkv::log {
namespace {

// A distinct, recognizable payload of n bytes for record i.
std::string Payload(int i, size_t n) {
  std::string s = std::to_string(i) + ".";
  while (s.size() < n) s += static_cast<char>('a' + (s.size() * 7 + i) % 26);
  s.resize(n);
  return s;
}

class StringDest final : public WritableFile {
 public:
  Status Append(const Slice& data) override {
    contents.append(data.data(), data.size());
    return Status::OK();
  }
  Status Flush() override { return Status::OK(); }
  Status Sync() override { return Status::OK(); }
  Status Close() override { return Status::OK(); }
  uint64_t Size() const override { return contents.size(); }
  std::string contents;
};

class StringSource final : public SequentialFile {
 public:
  explicit StringSource(const std::string& contents) : contents_(contents) {}
  Status Read(size_t n, Slice* result, char* scratch) override {
    if (fail_reads) return Status::IOError("injected read error");
    n = std::min(n, contents_.size() - pos_);
    std::memcpy(scratch, contents_.data() + pos_, n);
    *result = Slice(scratch, n);
    pos_ += n;
    return Status::OK();
  }
  Status Skip(uint64_t n) override {
    pos_ = std::min<uint64_t>(contents_.size(), pos_ + n);
    return Status::OK();
  }
  bool fail_reads = false;

 private:
  const std::string contents_;
  size_t pos_ = 0;
};

struct Event {
  bool torn;
  uint64_t offset;
  uint64_t bytes;
  std::string reason;
};

class RecordingReporter final : public Reader::Reporter {
 public:
  void Corruption(const std::string& fname, uint64_t offset, uint64_t bytes,
                  const Status& reason) override {
    EXPECT_EQ("test.log", fname);
    events.push_back({false, offset, bytes, reason.ToString()});
  }
  void TornTail(const std::string& fname, uint64_t offset, uint64_t bytes,
                const Status& reason) override {
    EXPECT_EQ("test.log", fname);
    events.push_back({true, offset, bytes, reason.ToString()});
  }
  int Count(bool torn) const {
    return static_cast<int>(std::count_if(events.begin(), events.end(),
                                          [&](const Event& e) { return e.torn == torn; }));
  }
  std::vector<Event> events;
};

// Where a record landed in the file.
struct Extent {
  uint64_t start;  // writer's size before AddRecord (a block trailer may come first)
  uint64_t end;    // and after
};

// The physical offset of a record's first header, given where its AddRecord began.
uint64_t FirstHeader(uint64_t start) {
  const uint64_t left = kBlockSize - start % kBlockSize;
  return left < kHeaderSize ? start + left : start;
}

class LogTest : public testing::Test {
 protected:
  void Write(const std::string& record) {
    const uint64_t start = writer_.FileSize();
    ASSERT_TRUE(writer_.AddRecord(record).ok());
    ASSERT_EQ(dest_.contents.size(), writer_.FileSize());
    extents_.push_back({start, writer_.FileSize()});
    written_.push_back(record);
  }

  // Reads contents to the end under mode; returns the records, and the final status in *s.
  std::vector<std::string> ReadAll(const std::string& contents, WalRecoveryMode mode, Status* s,
                                   RecordingReporter* reporter,
                                   std::vector<uint64_t>* offsets = nullptr) {
    StringSource source(contents);
    Reader reader(&source, "test.log", reporter, mode);
    std::vector<std::string> out;
    Slice record;
    std::string scratch;
    while (reader.ReadRecord(&record, &scratch)) {
      out.push_back(record.ToString());
      if (offsets != nullptr) {
        offsets->push_back(reader.LastRecordOffset());
        offsets->push_back(reader.LastRecordEndOffset());
      }
    }
    EXPECT_FALSE(reader.ReadRecord(&record, &scratch));  // stays stopped
    *s = reader.status();
    return out;
  }

  std::vector<std::string> ReadAll(WalRecoveryMode mode, Status* s, RecordingReporter* r) {
    return ReadAll(dest_.contents, mode, s, r);
  }

  // Rewrites the checksum of the physical record at offset to match its (changed) bytes.
  void FixChecksum(std::string* contents, uint64_t offset) {
    const size_t len = DecodeFixed16(contents->data() + offset + 4);
    EncodeFixed32(contents->data() + offset,
                  MaskChecksum(Checksum32(contents->data() + offset + 6, 1 + len)));
  }

  StringDest dest_;
  Writer writer_{&dest_};
  std::vector<Extent> extents_;
  std::vector<std::string> written_;
};

constexpr WalRecoveryMode kModes[] = {WalRecoveryMode::kTolerateCorruptedTailRecords,
                                      WalRecoveryMode::kAbsoluteConsistency,
                                      WalRecoveryMode::kSkipAnyCorruptedRecords};

TEST_F(LogTest, EmptyFile) {
  for (WalRecoveryMode mode : kModes) {
    Status s;
    RecordingReporter r;
    EXPECT_TRUE(ReadAll(mode, &s, &r).empty());
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_TRUE(r.events.empty());
  }
}

TEST_F(LogTest, SmallRecordsRoundTrip) {
  Write("foo");
  Write("bar");
  Write("");
  Write("xxxx");
  for (WalRecoveryMode mode : kModes) {
    Status s;
    RecordingReporter r;
    EXPECT_EQ(written_, ReadAll(mode, &s, &r));
    EXPECT_TRUE(s.ok());
    EXPECT_TRUE(r.events.empty());
  }
}

TEST_F(LogTest, ManyBlocks) {
  for (int i = 0; i < 20000; ++i) Write(Payload(i, i % 97));
  ASSERT_GT(dest_.contents.size(), 10 * kBlockSize);
  Status s;
  RecordingReporter r;
  EXPECT_EQ(written_, ReadAll(WalRecoveryMode::kAbsoluteConsistency, &s, &r));
  EXPECT_TRUE(s.ok());
}

TEST_F(LogTest, BigRecordsAreFragmented) {
  Write("small");
  Write(Payload(1, 3 * kBlockSize + 100));  // FIRST, MIDDLE, MIDDLE, LAST
  Write("small2");
  Write(Payload(2, 100000));
  // The second record's fragments: FIRST right after "small", then one per block.
  const uint64_t first = extents_[1].start;
  EXPECT_EQ(kFirstType, static_cast<uint8_t>(dest_.contents[first + 6]));
  EXPECT_EQ(kMiddleType, static_cast<uint8_t>(dest_.contents[kBlockSize + 6]));
  EXPECT_EQ(kMiddleType, static_cast<uint8_t>(dest_.contents[2 * kBlockSize + 6]));
  EXPECT_EQ(kLastType, static_cast<uint8_t>(dest_.contents[3 * kBlockSize + 6]));
  Status s;
  RecordingReporter r;
  EXPECT_EQ(written_, ReadAll(WalRecoveryMode::kAbsoluteConsistency, &s, &r));
  EXPECT_TRUE(s.ok());
}

TEST_F(LogTest, ExactlyFillsBlock) {
  // A record that leaves exactly a header's room, then one that leaves less (a trailer).
  Write(Payload(0, kBlockSize - 2 * kHeaderSize));
  EXPECT_EQ(kBlockSize - kHeaderSize, dest_.contents.size());
  Write("");  // fills the block exactly
  EXPECT_EQ(kBlockSize, dest_.contents.size());
  Write(Payload(1, kBlockSize - kHeaderSize - 3));  // leaves 3 bytes
  Write("next");
  EXPECT_EQ(2 * kBlockSize + kHeaderSize + 4, dest_.contents.size());
  EXPECT_EQ(std::string(3, '\0'), dest_.contents.substr(2 * kBlockSize - 3, 3));
  Status s;
  RecordingReporter r;
  std::vector<uint64_t> offsets;
  EXPECT_EQ(written_,
            ReadAll(dest_.contents, WalRecoveryMode::kAbsoluteConsistency, &s, &r, &offsets));
  EXPECT_TRUE(s.ok());
  // The last record's header is in the third block, past the trailer.
  EXPECT_EQ(2 * kBlockSize, offsets[6]);
}

TEST_F(LogTest, RandomSizesAndOffsets) {
  std::mt19937 rng(301);
  for (int i = 0; i < 500; ++i) {
    // Skewed sizes: mostly small, sometimes spanning blocks.
    const size_t n = (rng() % 10 == 0) ? rng() % (3 * kBlockSize) : rng() % 200;
    Write(Payload(i, n));
  }
  Status s;
  RecordingReporter r;
  std::vector<uint64_t> offsets;
  EXPECT_EQ(written_,
            ReadAll(dest_.contents, WalRecoveryMode::kAbsoluteConsistency, &s, &r, &offsets));
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(2 * extents_.size(), offsets.size());
  for (size_t i = 0; i < extents_.size(); ++i) {
    EXPECT_EQ(FirstHeader(extents_[i].start), offsets[2 * i]) << i;
    EXPECT_EQ(extents_[i].end, offsets[2 * i + 1]) << i;
  }
}

TEST_F(LogTest, ContinuesExistingLog) {
  Write("one");
  Write(Payload(1, kBlockSize));
  Writer second(&dest_, dest_.contents.size());
  ASSERT_TRUE(second.AddRecord("two").ok());
  ASSERT_TRUE(second.AddRecord(Payload(2, 2 * kBlockSize)).ok());
  written_.push_back("two");
  written_.push_back(Payload(2, 2 * kBlockSize));
  Status s;
  RecordingReporter r;
  EXPECT_EQ(written_, ReadAll(WalRecoveryMode::kAbsoluteConsistency, &s, &r));
  EXPECT_TRUE(s.ok());
}

// Cuts the file at every byte inside the last records: the complete records come back, the
// cut one is a torn tail (not corruption), and only kAbsoluteConsistency refuses it.
TEST_F(LogTest, TornTailAtEveryCut) {
  for (int i = 0; i < 6; ++i) Write(Payload(i, 50));
  Write(Payload(6, kBlockSize - 50 * 6 - 6 * kHeaderSize - kHeaderSize - 3));  // leaves 3
  Write(Payload(7, kBlockSize + 500));  // trailer, FIRST, LAST
  Write(Payload(8, 10));
  const std::string full = dest_.contents;
  // Every byte near a record or block boundary, and a sample in between.
  std::vector<uint64_t> cuts;
  for (uint64_t cut = extents_[4].start; cut <= full.size(); ++cut) {
    bool near = cut % 101 == 0;
    for (const Extent& e : extents_) near = near || cut - std::min(cut, e.start) < 12;
    for (uint64_t b = 0; b <= full.size(); b += kBlockSize) {
      near = near || (cut + 12 > b && cut < b + 12);
    }
    if (near) cuts.push_back(cut);
  }
  for (uint64_t cut : cuts) {
    size_t complete = 0;
    while (complete < extents_.size() && extents_[complete].end <= cut) ++complete;
    // A cut after a complete record, or inside the zero padding before the next record's
    // header, loses no record bytes.
    const bool at_boundary =
        complete == extents_.size() || cut <= FirstHeader(extents_[complete].start);
    for (WalRecoveryMode mode : kModes) {
      Status s;
      RecordingReporter r;
      std::vector<std::string> got = ReadAll(full.substr(0, cut), mode, &s, &r);
      const std::vector<std::string> want(written_.begin(), written_.begin() + complete);
      ASSERT_EQ(want, got) << "cut " << cut;
      ASSERT_EQ(0, r.Count(/*torn=*/false)) << "cut " << cut;
      if (at_boundary) {
        EXPECT_TRUE(s.ok()) << "cut " << cut;
        EXPECT_TRUE(r.events.empty()) << "cut " << cut;
        continue;
      }
      ASSERT_EQ(1u, r.events.size()) << "cut " << cut;
      const uint64_t want_offset = FirstHeader(extents_[complete].start);
      EXPECT_EQ(want_offset, r.events[0].offset) << "cut " << cut;
      EXPECT_EQ(cut - want_offset, r.events[0].bytes) << "cut " << cut;
      if (mode == WalRecoveryMode::kAbsoluteConsistency) {
        EXPECT_TRUE(s.IsCorruption()) << "cut " << cut;
      } else {
        EXPECT_TRUE(s.ok()) << "cut " << cut << ": " << s.ToString();
      }
    }
  }
}

TEST_F(LogTest, ZeroFilledTailIsTorn) {
  Write("a");
  Write("b");
  std::string contents = dest_.contents + std::string(100, '\0');
  for (WalRecoveryMode mode : kModes) {
    Status s;
    RecordingReporter r;
    EXPECT_EQ(written_, ReadAll(contents, mode, &s, &r));
    ASSERT_EQ(1u, r.events.size());
    EXPECT_TRUE(r.events[0].torn);
    EXPECT_EQ(dest_.contents.size(), r.events[0].offset);
    EXPECT_EQ(100u, r.events[0].bytes);
    EXPECT_EQ(mode == WalRecoveryMode::kAbsoluteConsistency, s.IsCorruption());
  }
}

TEST_F(LogTest, DamagedLastRecordIsTorn) {
  Write("first");
  Write("second");
  Write("third");
  std::string contents = dest_.contents;
  contents[extents_[2].start + kHeaderSize + 1] ^= 1;
  Status s;
  RecordingReporter r;
  EXPECT_EQ(std::vector<std::string>({"first", "second"}),
            ReadAll(contents, WalRecoveryMode::kTolerateCorruptedTailRecords, &s, &r));
  EXPECT_TRUE(s.ok());
  ASSERT_EQ(1u, r.events.size());
  EXPECT_TRUE(r.events[0].torn);
  EXPECT_EQ(extents_[2].start, r.events[0].offset);
  EXPECT_NE(std::string::npos, r.events[0].reason.find("checksum mismatch"));
}

// A flipped payload byte in the middle of the log: the record is lost, the damage is located
// exactly, and the mode decides whether reading goes on.
TEST_F(LogTest, ChecksumMismatchInTheMiddle) {
  for (int i = 0; i < 10; ++i) Write(Payload(i, 30));
  std::string contents = dest_.contents;
  contents[extents_[4].start + kHeaderSize + 5] ^= 0x40;
  for (WalRecoveryMode mode : kModes) {
    Status s;
    RecordingReporter r;
    std::vector<std::string> got = ReadAll(contents, mode, &s, &r);
    ASSERT_EQ(1u, r.events.size());
    EXPECT_FALSE(r.events[0].torn);
    EXPECT_EQ(extents_[4].start, r.events[0].offset);
    EXPECT_EQ(extents_[4].end - extents_[4].start, r.events[0].bytes);
    if (mode == WalRecoveryMode::kSkipAnyCorruptedRecords) {
      std::vector<std::string> want = written_;
      want.erase(want.begin() + 4);
      EXPECT_EQ(want, got);
      EXPECT_TRUE(s.ok());
    } else {
      EXPECT_EQ(std::vector<std::string>(written_.begin(), written_.begin() + 4), got);
      EXPECT_TRUE(s.IsCorruption());
      EXPECT_NE(std::string::npos, s.ToString().find("test.log")) << s.ToString();
      EXPECT_NE(std::string::npos, s.ToString().find(std::to_string(extents_[4].start)));
    }
  }
}

TEST_F(LogTest, FlippedTypeByteFailsChecksum) {
  Write("one");
  Write("two");
  Write("three");
  std::string contents = dest_.contents;
  contents[extents_[1].start + 6] = kFirstType;  // the checksum covers the type
  Status s;
  RecordingReporter r;
  EXPECT_EQ(std::vector<std::string>({"one", "three"}),
            ReadAll(contents, WalRecoveryMode::kSkipAnyCorruptedRecords, &s, &r));
  ASSERT_EQ(1u, r.events.size());
  EXPECT_FALSE(r.events[0].torn);
  EXPECT_EQ(extents_[1].start, r.events[0].offset);
}

// A damaged length cannot be trusted, so the rest of the block is lost; reading resumes at
// the next block, and the loss counts as corruption because intact records follow.
TEST_F(LogTest, BadLengthDropsRestOfBlock) {
  int i = 0;
  while (dest_.contents.size() < 2 * kBlockSize + 1000) Write(Payload(i++, 1000));
  std::string contents = dest_.contents;
  const Extent bad = extents_[3];
  EncodeFixed16(contents.data() + bad.start + 4, 0xffff);
  for (WalRecoveryMode mode : kModes) {
    Status s;
    RecordingReporter r;
    std::vector<std::string> got = ReadAll(contents, mode, &s, &r);
    ASSERT_GE(r.events.size(), 1u);
    EXPECT_FALSE(r.events[0].torn);
    EXPECT_EQ(bad.start, r.events[0].offset);
    EXPECT_NE(std::string::npos, r.events[0].reason.find("bad record length"));
    if (mode != WalRecoveryMode::kSkipAnyCorruptedRecords) {
      EXPECT_TRUE(s.IsCorruption());
      EXPECT_EQ(std::vector<std::string>(written_.begin(), written_.begin() + 3), got);
      continue;
    }
    EXPECT_TRUE(s.ok());
    // Records 0-2 survive, then every record whose header lies in a later block; the one
    // that straddles into block 1 loses its FIRST fragment, and its LAST is skipped with the
    // damage.
    std::vector<std::string> want(written_.begin(), written_.begin() + 3);
    uint64_t resume = 0;
    for (size_t k = 4; k < extents_.size(); ++k) {
      if (FirstHeader(extents_[k].start) < kBlockSize) continue;
      if (resume == 0) resume = FirstHeader(extents_[k].start);
      want.push_back(written_[k]);
    }
    EXPECT_EQ(want, got);
    ASSERT_EQ(1u, r.events.size());
    EXPECT_GT(resume, kBlockSize);
    EXPECT_EQ(resume - bad.start, r.events[0].bytes);
  }
}

// Damage inside a fragmented record loses that record only; its remaining fragments are
// reported, and records after it survive.
TEST_F(LogTest, DamagedMiddleFragment) {
  Write("before");
  Write(Payload(1, 3 * kBlockSize));
  Write("after");
  std::string contents = dest_.contents;
  contents[kBlockSize + kHeaderSize + 10] ^= 1;  // inside the first MIDDLE fragment
  Status s;
  RecordingReporter r;
  EXPECT_EQ(std::vector<std::string>({"before", "after"}),
            ReadAll(contents, WalRecoveryMode::kSkipAnyCorruptedRecords, &s, &r));
  EXPECT_TRUE(s.ok());
  // One region: from the record's FIRST header through its orphaned MIDDLE and LAST
  // fragments, up to the next record.
  ASSERT_EQ(1u, r.events.size());
  EXPECT_FALSE(r.events[0].torn);
  EXPECT_EQ(extents_[1].start, r.events[0].offset);
  EXPECT_EQ(extents_[2].start - extents_[1].start, r.events[0].bytes);

  r.events.clear();
  EXPECT_EQ(std::vector<std::string>({"before"}),
            ReadAll(contents, WalRecoveryMode::kTolerateCorruptedTailRecords, &s, &r));
  EXPECT_TRUE(s.IsCorruption());
}

TEST_F(LogTest, UnknownTypeWithValidChecksum) {
  Write("one");
  Write("two");
  Write("three");
  std::string contents = dest_.contents;
  contents[extents_[1].start + 6] = 9;
  FixChecksum(&contents, extents_[1].start);
  Status s;
  RecordingReporter r;
  EXPECT_EQ(std::vector<std::string>({"one", "three"}),
            ReadAll(contents, WalRecoveryMode::kSkipAnyCorruptedRecords, &s, &r));
  ASSERT_EQ(1u, r.events.size());
  EXPECT_NE(std::string::npos, r.events[0].reason.find("unknown record type 9"));
}

// A writer that crashed inside a fragmented record and then appended to the same file leaves
// a FIRST fragment without its LAST, followed by intact records: corruption, not a torn tail.
TEST_F(LogTest, FragmentedRecordWithoutEnd) {
  Write("one");
  Write(Payload(1, 2 * kBlockSize));
  std::string contents = dest_.contents.substr(0, kBlockSize + 100);  // FIRST and part of MIDDLE
  // Restart: the torn MIDDLE is garbage that a new writer appends after.
  StringDest restarted;
  restarted.contents = dest_.contents.substr(0, kBlockSize);  // FIRST only
  Writer w(&restarted, restarted.contents.size());
  ASSERT_TRUE(w.AddRecord("two").ok());
  Status s;
  RecordingReporter r;
  EXPECT_EQ(std::vector<std::string>({"one", "two"}),
            ReadAll(restarted.contents, WalRecoveryMode::kSkipAnyCorruptedRecords, &s, &r));
  EXPECT_TRUE(s.ok());
  ASSERT_EQ(1u, r.events.size());
  EXPECT_FALSE(r.events[0].torn);
  EXPECT_EQ(extents_[1].start, r.events[0].offset);
  EXPECT_EQ(kBlockSize - extents_[1].start, r.events[0].bytes);

  r.events.clear();
  EXPECT_EQ(std::vector<std::string>({"one"}),
            ReadAll(restarted.contents, WalRecoveryMode::kTolerateCorruptedTailRecords, &s, &r));
  EXPECT_TRUE(s.IsCorruption());

  // Without the appended record it is just a torn tail.
  r.events.clear();
  EXPECT_EQ(std::vector<std::string>({"one"}),
            ReadAll(contents, WalRecoveryMode::kTolerateCorruptedTailRecords, &s, &r));
  EXPECT_TRUE(s.ok());
  ASSERT_EQ(1u, r.events.size());
  EXPECT_TRUE(r.events[0].torn);
  EXPECT_EQ(extents_[1].start, r.events[0].offset);
}

TEST_F(LogTest, ReadErrorStopsWithIOError) {
  Write("one");
  StringSource source(dest_.contents);
  source.fail_reads = true;
  RecordingReporter r;
  Reader reader(&source, "test.log", &r);
  Slice record;
  std::string scratch;
  EXPECT_FALSE(reader.ReadRecord(&record, &scratch));
  EXPECT_TRUE(reader.status().IsIOError());
  EXPECT_TRUE(r.events.empty());
}

TEST_F(LogTest, NullReporterIsAllowed) {
  Write("one");
  std::string contents = dest_.contents + "xyz";  // torn header
  StringSource source(contents);
  Reader reader(&source, "test.log", nullptr);
  Slice record;
  std::string scratch;
  ASSERT_TRUE(reader.ReadRecord(&record, &scratch));
  EXPECT_EQ("one", record.ToString());
  EXPECT_FALSE(reader.ReadRecord(&record, &scratch));
  EXPECT_TRUE(reader.status().ok());
  EXPECT_TRUE(reader.found_torn_tail());
}

// The same round trip through real Env files (POSIX and in-memory), whose reads and writes
// are buffered differently from the string files above.
TEST(LogEnvTest, RoundTripThroughEnvFiles) {
  std::unique_ptr<Env> mem(NewMemEnv(Env::Default()));
  const std::string posix_dir = test::NewTempDir("log_env");
  const struct {
    Env* env;
    std::string fname;
  } cases[] = {{Env::Default(), posix_dir + "/000001.log"}, {mem.get(), "/db/000001.log"}};
  for (const auto& c : cases) {
    std::vector<std::string> written;
    {
      std::unique_ptr<WritableFile> file;
      ASSERT_TRUE(c.env->NewWritableFile(c.fname, &file).ok());
      Writer writer(file.get());
      for (int i = 0; i < 300; ++i) {
        written.push_back(Payload(i, (i * 977) % (2 * kBlockSize)));
        ASSERT_TRUE(writer.AddRecord(written.back()).ok());
      }
      ASSERT_TRUE(file->Sync().ok());
      ASSERT_TRUE(file->Close().ok());
    }
    std::unique_ptr<SequentialFile> file;
    ASSERT_TRUE(c.env->NewSequentialFile(c.fname, &file).ok());
    Reader reader(file.get(), c.fname, nullptr, WalRecoveryMode::kAbsoluteConsistency);
    Slice record;
    std::string scratch;
    size_t i = 0;
    while (reader.ReadRecord(&record, &scratch)) {
      ASSERT_LT(i, written.size());
      ASSERT_EQ(written[i], record.ToString()) << c.fname << " record " << i;
      ++i;
    }
    EXPECT_TRUE(reader.status().ok()) << reader.status().ToString();
    EXPECT_EQ(written.size(), i);
  }
}

}  // namespace
}  // namespace learnkv::log
