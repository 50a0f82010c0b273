// Focused tests of the DB engine's internals through DBImpl: open/create/reopen, the write
// path and WAL recovery, flushes, compactions (trivial moves, tombstone dropping under
// snapshots), iterators in both directions, MultiGet, properties, the LOCK file and a few
// bad inputs. The randomized model test and crash tests live in db_model_test.cc and friends.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/db_impl.h"
#include "engine/filename.h"
#include "sstable/block_cache.h"
#include "learnkv/db.h"
#include "learnkv/env.h"
#include "tests/support/test_util.h"
#include "util/fault_injection_env.h"
#include "util/mem_env.h"
#include "util/random.h"

namespace learnkv {
namespace {

#define ASSERT_OK(expr)                    \
  do {                                     \
    const Status _s = (expr);              \
    ASSERT_TRUE(_s.ok()) << _s.ToString(); \
  } while (0)

std::string Key(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key%08d", i);
  return buf;
}

class DBBasicTest : public testing::Test {
 protected:
  DBBasicTest() : env_(NewMemEnv(Env::Default())), dbname_("/db") {
    options_.env = env_.get();
    options_.create_if_missing = true;
  }
  ~DBBasicTest() override { db_.reset(); }

  void Open() { ASSERT_OK(DB::Open(options_, dbname_, &db_)); }
  void Reopen() {
    db_.reset();
    Open();
  }
  DBImpl* impl() { return static_cast<DBImpl*>(db_.get()); }

  std::string Get(const std::string& key, const Snapshot* snap = nullptr) {
    ReadOptions ro;
    ro.snapshot = snap;
    std::string v;
    Status s = db_->Get(ro, key, &v);
    if (s.IsNotFound()) return "NOT_FOUND";
    if (!s.ok()) return s.ToString();
    return v;
  }
  Status Put(const std::string& k, const std::string& v) { return db_->Put(WriteOptions(), k, v); }
  Status Delete(const std::string& k) { return db_->Delete(WriteOptions(), k); }
  int FilesAt(int level) {
    std::string v;
    EXPECT_TRUE(db_->GetProperty("learnkv.num-files-at-level" + std::to_string(level), &v));
    return std::stoi(v);
  }
  std::string Contents(const Snapshot* snap = nullptr) {
    ReadOptions ro;
    ro.snapshot = snap;
    std::unique_ptr<Iterator> it = db_->NewIterator(ro);
    std::string r;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      r += it->key().ToString() + "=" + it->value().ToString() + " ";
    }
    EXPECT_TRUE(it->status().ok()) << it->status().ToString();
    return r;
  }
  std::string ContentsBackward() {
    std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
    std::string r;
    for (it->SeekToLast(); it->Valid(); it->Prev()) {
      r = it->key().ToString() + "=" + it->value().ToString() + " " + r;
    }
    return r;
  }

  std::unique_ptr<Env> env_;
  std::string dbname_;
  Options options_;
  std::unique_ptr<DB> db_;
};

TEST_F(DBBasicTest, OpenCreatesAndRequiresCreateIfMissing) {
  Options o = options_;
  o.create_if_missing = false;
  Status s = DB::Open(o, dbname_, &db_);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  Open();
  ASSERT_OK(Put("a", "1"));
  db_.reset();
  o.error_if_exists = true;
  s = DB::Open(o, dbname_, &db_);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_TRUE(env_->FileExists(CurrentFileName(dbname_)));
  EXPECT_TRUE(env_->FileExists(InfoLogFileName(dbname_)));
}

TEST_F(DBBasicTest, PutGetDeleteAcrossReopen) {
  Open();
  ASSERT_OK(Put("foo", "v1"));
  ASSERT_OK(Put("bar", "v2"));
  ASSERT_OK(Put("foo", "v3"));
  ASSERT_OK(Delete("bar"));
  EXPECT_EQ("v3", Get("foo"));
  EXPECT_EQ("NOT_FOUND", Get("bar"));
  Reopen();  // from the WAL
  EXPECT_EQ("v3", Get("foo"));
  EXPECT_EQ("NOT_FOUND", Get("bar"));
  ASSERT_OK(Put("baz", "v4"));
  Reopen();
  EXPECT_EQ("v4", Get("baz"));
  EXPECT_EQ("v3", Get("foo"));
}

TEST_F(DBBasicTest, FlushWritesLevel0AndReopenReadsIt) {
  Open();
  for (int i = 0; i < 1000; ++i) ASSERT_OK(Put(Key(i), "value" + std::to_string(i)));
  ASSERT_OK(db_->Flush(FlushOptions()));
  EXPECT_EQ(1, FilesAt(0));
  ASSERT_OK(Delete(Key(5)));
  ASSERT_OK(db_->Flush(FlushOptions()));
  EXPECT_EQ(2, FilesAt(0));
  Reopen();
  EXPECT_EQ(2, FilesAt(0));
  EXPECT_EQ("value7", Get(Key(7)));
  EXPECT_EQ("NOT_FOUND", Get(Key(5)));
  EXPECT_EQ("NOT_FOUND", Get("zzz"));
  std::string sstables;
  ASSERT_TRUE(db_->GetProperty("learnkv.sstables", &sstables));
  EXPECT_NE(std::string::npos, sstables.find("level 0")) << sstables;
}

// Lookups reach pinned tables without the table cache: every table a flush, a compaction or a
// reopen adds is pinned while fewer than a quarter of max_open_files are, and a pinned table
// stays open (outside the cache's LRU) until compaction deletes its file.
TEST_F(DBBasicTest, TablesArePinnedUpToAQuarterOfTheTableCache) {
  options_.max_open_files = 30;  // a cache of 20 readers: 5 may be pinned
  options_.level0_file_num_compaction_trigger = 100;  // only CompactRange compacts
  options_.level0_slowdown_writes_trigger = 100;
  options_.level0_stop_writes_trigger = 100;
  Open();
  auto property = [&](const char* name) {
    std::string v;
    EXPECT_TRUE(db_->GetProperty(name, &v)) << name;
    return std::stoi(v);
  };
  for (int t = 0; t < 3; ++t) {
    for (int i = 0; i < 100; ++i) ASSERT_OK(Put(Key(t * 1000 + i), "v" + std::to_string(t)));
    ASSERT_OK(db_->Flush(FlushOptions()));
  }
  EXPECT_EQ(3, FilesAt(0));
  EXPECT_EQ(3, property("learnkv.num-pinned-tables"));
  EXPECT_EQ("v1", Get(Key(1005)));

  ASSERT_OK(db_->CompactRange(nullptr, nullptr));
  EXPECT_EQ(0, FilesAt(0));
  const int tables = FilesAt(1) + FilesAt(2) + FilesAt(3) + FilesAt(4) + FilesAt(5) + FilesAt(6);
  ASSERT_GE(tables, 1);
  // The three flushed tables were deleted and unpinned; the outputs are pinned.
  EXPECT_EQ(tables, property("learnkv.num-pinned-tables"));
  EXPECT_EQ(tables, property("learnkv.num-open-tables"));
  EXPECT_EQ("v2", Get(Key(2099)));

  for (int t = 0; t < 8; ++t) {
    ASSERT_OK(Put(Key(5000 + t), "w"));
    ASSERT_OK(db_->Flush(FlushOptions()));
  }
  EXPECT_EQ(5, property("learnkv.num-pinned-tables"));  // the rest go through the cache
  Reopen();
  EXPECT_EQ(5, property("learnkv.num-pinned-tables"));
  for (int t = 0; t < 8; ++t) EXPECT_EQ("w", Get(Key(5000 + t)));
  EXPECT_EQ("v0", Get(Key(42)));
}

TEST_F(DBBasicTest, SmallMemtableFlushesAndCompactsInBackground) {
  options_.write_buffer_size = 16 << 10;
  options_.target_file_size_base = 32 << 10;
  options_.max_bytes_for_level_base = 128 << 10;
  options_.level0_file_num_compaction_trigger = 2;
  Open();
  std::map<std::string, std::string> model;
  for (int i = 0; i < 20000; ++i) {
    const std::string k = Key((i * 7919) % 5000);
    const std::string v = std::string(20, static_cast<char>('a' + i % 26));
    if (i % 10 == 3) {
      ASSERT_OK(Delete(k));
      model.erase(k);
    } else {
      ASSERT_OK(Put(k, v));
      model[k] = v;
    }
  }
  ASSERT_OK(db_->WaitForCompaction());
  int deeper = 0;
  for (int level = 1; level < 7; ++level) deeper += FilesAt(level);
  EXPECT_GT(deeper, 0);
  std::string expected;
  for (const auto& [k, v] : model) expected += k + "=" + v + " ";
  EXPECT_EQ(expected, Contents());
  EXPECT_EQ(expected, ContentsBackward());
  for (int i = 0; i < 5000; i += 37) {
    auto it = model.find(Key(i));
    EXPECT_EQ(it == model.end() ? "NOT_FOUND" : it->second, Get(Key(i)));
  }
  Reopen();
  EXPECT_EQ(expected, Contents());
  std::string stats;
  ASSERT_TRUE(db_->GetProperty("learnkv.stats", &stats));
  EXPECT_NE(std::string::npos, stats.find("L1")) << stats;
}

TEST_F(DBBasicTest, TrivialMoveAndCompactRange) {
  Open();
  ASSERT_OK(Put("a", "1"));
  ASSERT_OK(Put("b", "2"));
  ASSERT_OK(db_->Flush(FlushOptions()));
  ASSERT_OK(impl()->TEST_CompactRange(0, nullptr, nullptr));
  EXPECT_EQ(0, FilesAt(0));
  EXPECT_EQ(1, FilesAt(1));
  ASSERT_OK(Delete("a"));
  ASSERT_OK(db_->CompactRange(nullptr, nullptr));
  EXPECT_EQ(0, FilesAt(0));
  EXPECT_EQ("b=2 ", Contents());
  // The tombstone reached the bottom with nothing to hide and no snapshot: gone.
  std::string sstables;
  ASSERT_TRUE(db_->GetProperty("learnkv.sstables", &sstables));
  EXPECT_NE(std::string::npos, sstables.find("entries 1 ")) << sstables;
}

// Lookups fill the block cache; compactions and iterators with fill_cache = false do not, so a
// compaction cannot push out the blocks lookups use.
TEST_F(DBBasicTest, OnlyReadsThatAskFillTheBlockCache) {
  std::shared_ptr<BlockCache> cache = NewBlockCache(64 << 20);
  options_.table_options.block_cache = cache;
  Open();
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 2000; ++i) ASSERT_OK(Put(Key(i), std::string(100, 'a' + round)));
    ASSERT_OK(db_->Flush(FlushOptions()));
  }
  ASSERT_OK(db_->CompactRange(nullptr, nullptr));
  EXPECT_EQ(0, FilesAt(0));
  EXPECT_EQ(0u, cache->TotalCharge());

  ReadOptions no_fill;
  no_fill.fill_cache = false;
  std::unique_ptr<Iterator> it = db_->NewIterator(no_fill);
  int n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  ASSERT_OK(it->status());
  EXPECT_EQ(2000, n);
  it.reset();
  EXPECT_EQ(0u, cache->TotalCharge());

  EXPECT_EQ(std::string(100, 'c'), Get(Key(1234)));
  EXPECT_GT(cache->TotalCharge(), 0u);
  const size_t after_get = cache->TotalCharge();
  const std::string all = Contents();  // a default ReadOptions: fills the cache
  EXPECT_EQ(2000, std::count(all.begin(), all.end(), ' '));
  EXPECT_GT(cache->TotalCharge(), after_get);
}

TEST_F(DBBasicTest, SnapshotsKeepOldVersionsThroughCompaction) {
  Open();
  ASSERT_OK(Put("k", "v1"));
  const Snapshot* s1 = db_->GetSnapshot();
  ASSERT_OK(Put("k", "v2"));
  ASSERT_OK(Delete("j"));
  const Snapshot* s2 = db_->GetSnapshot();
  ASSERT_OK(Delete("k"));
  ASSERT_OK(db_->CompactRange(nullptr, nullptr));
  EXPECT_EQ("v1", Get("k", s1));
  EXPECT_EQ("v2", Get("k", s2));
  EXPECT_EQ("NOT_FOUND", Get("k"));
  EXPECT_EQ("k=v1 ", Contents(s1));
  EXPECT_EQ("", Contents());
  db_->ReleaseSnapshot(s1);
  db_->ReleaseSnapshot(s2);
  ASSERT_OK(db_->CompactRange(nullptr, nullptr));
  EXPECT_EQ("NOT_FOUND", Get("k"));
  std::string n;
  ASSERT_TRUE(db_->GetProperty("learnkv.estimate-num-keys", &n));
  EXPECT_EQ("0", n);
}

TEST_F(DBBasicTest, IteratorSeeksBothWays) {
  Open();
  for (int i = 0; i < 100; i += 2) ASSERT_OK(Put(Key(i), std::to_string(i)));
  ASSERT_OK(db_->Flush(FlushOptions()));
  for (int i = 0; i < 100; i += 10) ASSERT_OK(Delete(Key(i)));
  ASSERT_OK(Put(Key(51), "51"));
  std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
  it->Seek(Key(50));
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(Key(51), it->key().ToString());
  it->Prev();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(Key(48), it->key().ToString());
  it->Next();
  it->Next();
  EXPECT_EQ(Key(52), it->key().ToString());
  it->SeekForPrev(Key(50));
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(Key(48), it->key().ToString());
  it->SeekForPrev(Key(51));
  EXPECT_EQ(Key(51), it->key().ToString());
  EXPECT_EQ("51", it->value().ToString());
  it->SeekForPrev(Key(0));
  EXPECT_FALSE(it->Valid());
  it->Seek(Key(99));
  EXPECT_FALSE(it->Valid());
  it->SeekToLast();
  EXPECT_EQ(Key(98), it->key().ToString());
  it->SeekToFirst();
  EXPECT_EQ(Key(2), it->key().ToString());
  ASSERT_OK(it->status());
}

TEST_F(DBBasicTest, MultiGetMatchesGet) {
  options_.write_buffer_size = 16 << 10;
  Open();
  for (int i = 0; i < 3000; ++i) ASSERT_OK(Put(Key(i), "v" + std::to_string(i)));
  ASSERT_OK(db_->Flush(FlushOptions()));
  ASSERT_OK(db_->CompactRange(nullptr, nullptr));
  for (int i = 0; i < 3000; i += 3) ASSERT_OK(Delete(Key(i)));
  ASSERT_OK(db_->Flush(FlushOptions()));
  ASSERT_OK(Put(Key(4), "fresh"));
  std::vector<std::string> storage;
  for (int i = 2999; i >= -5; i -= 7) storage.push_back(i >= 0 ? Key(i) : "missing");
  storage.push_back(Key(4));
  storage.push_back(Key(4));
  const std::vector<Slice> keys(storage.begin(), storage.end());
  std::vector<std::string> values;
  std::vector<Status> statuses;
  db_->MultiGet(ReadOptions(), keys, &values, &statuses);
  ASSERT_EQ(keys.size(), values.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string expected = Get(storage[i]);
    if (expected == "NOT_FOUND") {
      EXPECT_TRUE(statuses[i].IsNotFound()) << storage[i] << " " << statuses[i].ToString();
    } else {
      ASSERT_OK(statuses[i]);
      EXPECT_EQ(expected, values[i]) << storage[i];
    }
  }
}

// MultiGet sorts its keys by the bytes after the prefix they all share; keys that are prefixes
// of each other, differ only past that window, or hold bytes >= 0x80 must still come out in
// bytewise order, or a level's tables would be asked for the wrong keys.
TEST_F(DBBasicTest, MultiGetSortsKeysSharingPrefixes) {
  options_.write_buffer_size = 16 << 10;
  options_.target_file_size_base = 4 << 10;
  Open();
  const std::string prefix = "user:00000000:";
  std::vector<std::string> stored;
  for (int i = 0; i < 600; ++i) {
    std::string k = prefix + Key(i);
    if (i % 5 == 0) k += std::string(9, '\0');  // same window as Key(i), longer
    if (i % 7 == 0) k += "\xff\x80";
    stored.push_back(k);
  }
  stored.push_back(prefix);
  stored.push_back(prefix + std::string(1, '\0'));
  stored.push_back(prefix + std::string(2, '\0'));
  for (const std::string& k : stored) ASSERT_OK(Put(k, "v:" + k));
  ASSERT_OK(db_->CompactRange(nullptr, nullptr));
  int files = 0;
  for (int level = 1; level < options_.num_levels; ++level) files += FilesAt(level);
  ASSERT_GT(files, 2);
  for (int i = 0; i < 600; i += 4) ASSERT_OK(Put(stored[i], "new"));  // some in the memtable
  std::vector<std::string> names = stored;
  for (int i = 0; i < 600; i += 9) names.push_back(prefix + Key(i) + "x");  // absent
  Random rnd(301);
  for (size_t i = names.size(); i > 1; --i) {
    std::swap(names[i - 1], names[rnd.Uniform(static_cast<uint32_t>(i))]);
  }
  const std::vector<Slice> keys(names.begin(), names.end());
  std::vector<std::string> values;
  std::vector<Status> statuses;
  db_->MultiGet(ReadOptions(), keys, &values, &statuses);
  ASSERT_EQ(keys.size(), values.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string expected = Get(names[i]);
    if (expected == "NOT_FOUND") {
      EXPECT_TRUE(statuses[i].IsNotFound()) << i << " " << statuses[i].ToString();
      EXPECT_EQ("", values[i]);
    } else {
      ASSERT_OK(statuses[i]);
      EXPECT_EQ(expected, values[i]) << i;
    }
  }
}

// A caller may pass the same vectors again (the server does, batch after batch): every value
// is replaced, a missing key's is empty, and the vectors are sized to the new keys.
TEST_F(DBBasicTest, MultiGetReusesTheCallersVectors) {
  Open();
  ASSERT_OK(Put("a", std::string(100, 'a')));
  ASSERT_OK(Put("b", "short"));
  std::vector<std::string> values(5, std::string(200, 'x'));
  std::vector<Status> statuses(5, Status::Corruption("stale"));
  const std::vector<Slice> first = {"a", "missing", "b"};
  db_->MultiGet(ReadOptions(), first, &values, &statuses);
  ASSERT_EQ(3u, values.size());
  ASSERT_EQ(3u, statuses.size());
  ASSERT_OK(statuses[0]);
  EXPECT_EQ(std::string(100, 'a'), values[0]);
  EXPECT_TRUE(statuses[1].IsNotFound());
  EXPECT_EQ("", values[1]);
  ASSERT_OK(statuses[2]);
  EXPECT_EQ("short", values[2]);
  ASSERT_OK(db_->Flush(FlushOptions()));
  const std::vector<Slice> second = {"missing", "b", "a", "b"};  // from a table this time
  db_->MultiGet(ReadOptions(), second, &values, &statuses);
  ASSERT_EQ(4u, values.size());
  EXPECT_TRUE(statuses[0].IsNotFound());
  EXPECT_EQ("", values[0]);
  EXPECT_EQ("short", values[1]);
  EXPECT_EQ(std::string(100, 'a'), values[2]);
  EXPECT_EQ("short", values[3]);
  for (int i = 1; i < 4; ++i) ASSERT_OK(statuses[i]);
}

TEST_F(DBBasicTest, WriteBatchIsAtomicAndConcurrentWritersAllLand) {
  Open();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 500; ++i) {
        WriteBatch b;
        b.Put("t" + std::to_string(t) + "-" + Key(i), "x");
        b.Put("t" + std::to_string(t) + "-" + Key(i) + "-pair", "y");
        WriteOptions wo;
        wo.sync = (i % 100 == 0);
        ASSERT_OK(db_->Write(wo, &b));
      }
    });
  }
  for (auto& th : threads) th.join();
  Reopen();
  std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
  int n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  EXPECT_EQ(4 * 500 * 2, n);
}

TEST_F(DBBasicTest, PropertiesAndApproximateSizes) {
  Open();
  Random rnd(301);
  for (int i = 0; i < 2000; ++i) {
    std::string value;
    for (int j = 0; j < 100; ++j) value.push_back(static_cast<char>(rnd.Uniform(256)));
    ASSERT_OK(Put(Key(i), value));
  }
  ASSERT_OK(db_->Flush(FlushOptions()));
  std::string v;
  ASSERT_TRUE(db_->GetProperty("learnkv.stats", &v));
  ASSERT_TRUE(db_->GetProperty("learnkv.num-open-tables", &v));
  EXPECT_EQ("1", v);  // the flush opened (and pinned) its table
  Get(Key(3));
  ASSERT_TRUE(db_->GetProperty("learnkv.index-memory", &v));
  EXPECT_GT(std::stoull(v), 0u);
  ASSERT_TRUE(db_->GetProperty("learnkv.filter-memory", &v));
  EXPECT_GT(std::stoull(v), 0u);  // every table gets a filter by default
  ASSERT_TRUE(db_->GetProperty("learnkv.estimate-num-keys", &v));
  EXPECT_EQ("2000", v);
  EXPECT_FALSE(db_->GetProperty("learnkv.no-such-thing", &v));
  EXPECT_FALSE(db_->GetProperty("learnkv.num-files-at-level9", &v));
  ASSERT_TRUE(db_->GetProperty("learnkv.sstables", &v));
  EXPECT_TRUE(v.find("index rmi") != std::string::npos ||
              v.find("index block") != std::string::npos)
      << v;
  // Range holds Slices: the key strings must outlive it.
  const std::string k0 = Key(0), k1000 = Key(1000), k1999 = Key(1999), k3000 = Key(3000);
  Range ranges[2] = {{k0, k1000}, {k1999, k3000}};
  uint64_t sizes[2];
  db_->GetApproximateSizes(ranges, 2, sizes);
  EXPECT_GT(sizes[0], 50000u);
  EXPECT_LT(sizes[1], sizes[0]);
}

TEST_F(DBBasicTest, SecondOpenFailsOnLock) {
  Open();
  std::unique_ptr<DB> second;
  Status s = DB::Open(options_, dbname_, &second);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("LOCK")) << s.ToString();
  ASSERT_OK(db_->Close());
  EXPECT_FALSE(Put("a", "b").ok());
  ASSERT_OK(DB::Open(options_, dbname_, &second));
}

TEST_F(DBBasicTest, BadInputs) {
  ASSERT_OK(WriteStringToFile(env_.get(), "not a db", "/file", false));
  Status s = DB::Open(options_, "/file", &db_);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string::npos, s.ToString().find("/file")) << s.ToString();

  Open();
  ASSERT_OK(Put("a", "1"));
  db_.reset();
  // CURRENT naming a missing MANIFEST.
  ASSERT_OK(WriteStringToFile(env_.get(), "MANIFEST-000999\n", CurrentFileName(dbname_), false));
  s = DB::Open(options_, dbname_, &db_);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("MANIFEST-000999")) << s.ToString();
}

TEST_F(DBBasicTest, CorruptManifestIsReported) {
  Open();
  ASSERT_OK(Put("a", "1"));
  ASSERT_OK(db_->Flush(FlushOptions()));
  db_.reset();
  std::string manifest;
  uint64_t number;
  ASSERT_OK(ReadCurrentFile(env_.get(), dbname_, &manifest, &number));
  std::string contents;
  ASSERT_OK(ReadFileToString(env_.get(), dbname_ + "/" + manifest, &contents));
  contents[10] ^= 0x5a;  // inside the first record, with intact records after it
  ASSERT_OK(WriteStringToFile(env_.get(), contents, dbname_ + "/" + manifest, false));
  Status s = DB::Open(options_, dbname_, &db_);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find(manifest)) << s.ToString();
}

TEST_F(DBBasicTest, TornWalTailIsDroppedAndNeverAppendedTo) {
  Open();
  ASSERT_OK(Put("a", "1"));
  ASSERT_OK(Put("b", std::string(1000, 'x')));
  db_.reset();
  std::vector<std::string> children;
  ASSERT_OK(env_->GetChildren(dbname_, &children));
  std::string wal;
  for (const auto& c : children) {
    if (c.size() > 4 && c.substr(c.size() - 4) == ".log") wal = dbname_ + "/" + c;
  }
  ASSERT_FALSE(wal.empty());
  std::string contents;
  ASSERT_OK(ReadFileToString(env_.get(), wal, &contents));
  contents.resize(contents.size() - 100);  // cut the second record short
  ASSERT_OK(WriteStringToFile(env_.get(), contents, wal, false));
  Open();
  EXPECT_EQ("1", Get("a"));
  EXPECT_EQ("NOT_FOUND", Get("b"));
  ASSERT_OK(Put("c", "3"));
  Reopen();
  EXPECT_EQ("1", Get("a"));
  EXPECT_EQ("3", Get("c"));
}

TEST_F(DBBasicTest, FailedWalWriteBecomesBackgroundError) {
  FaultInjectionEnv fault(env_.get());
  options_.env = &fault;
  Open();
  ASSERT_OK(Put("a", "1"));
  fault.FailNextAppend(".log");
  EXPECT_FALSE(Put("b", "2").ok());
  EXPECT_FALSE(Put("c", "3").ok());  // sticks
  EXPECT_EQ("1", Get("a"));          // reads continue
  EXPECT_EQ("NOT_FOUND", Get("b"));
  Reopen();
  ASSERT_OK(Put("d", "4"));
  EXPECT_EQ("1", Get("a"));
  db_.reset();
}

TEST_F(DBBasicTest, FailedFlushBecomesBackgroundError) {
  FaultInjectionEnv fault(env_.get());
  options_.env = &fault;
  Open();
  ASSERT_OK(Put("a", "1"));
  fault.SetAppendsFail(true, ".sst");
  EXPECT_FALSE(db_->Flush(FlushOptions()).ok());
  EXPECT_FALSE(Put("b", "2").ok());
  EXPECT_EQ("1", Get("a"));
  fault.ClearFaults();
  Reopen();
  EXPECT_EQ("1", Get("a"));
  db_.reset();
}

TEST_F(DBBasicTest, WritesStallWithoutGrowingMemory) {
  options_.write_buffer_size = 16 << 10;
  options_.level0_file_num_compaction_trigger = 2;
  options_.level0_slowdown_writes_trigger = 3;
  options_.level0_stop_writes_trigger = 4;
  Open();
  for (int i = 0; i < 20000; ++i) ASSERT_OK(Put(Key(i), std::string(50, 'z')));
  EXPECT_LE(impl()->TEST_NumImmutableMemTables(), options_.max_write_buffer_number - 1);
  EXPECT_LE(FilesAt(0), 4);
  ASSERT_OK(db_->WaitForCompaction());
  EXPECT_EQ(std::string(50, 'z'), Get(Key(12345)));
}

TEST_F(DBBasicTest, SingleBackgroundThreadFlushesDuringCompaction) {
  options_.max_background_jobs = 1;
  options_.write_buffer_size = 16 << 10;
  options_.target_file_size_base = 32 << 10;
  options_.max_bytes_for_level_base = 64 << 10;
  options_.level0_file_num_compaction_trigger = 2;
  Open();
  for (int i = 0; i < 30000; ++i) ASSERT_OK(Put(Key(i % 7000), std::to_string(i)));
  ASSERT_OK(db_->WaitForCompaction());
  for (int i = 23000; i < 30000; i += 101) EXPECT_EQ(std::to_string(i), Get(Key(i % 7000)));
}

TEST_F(DBBasicTest, ConcurrentReadersDuringFlushesAndCompactions) {
  options_.write_buffer_size = 16 << 10;
  options_.target_file_size_base = 32 << 10;
  options_.max_bytes_for_level_base = 64 << 10;
  options_.level0_file_num_compaction_trigger = 2;
  options_.max_background_jobs = 3;
  Open();
  // Every key's value is its own name, so a reader can check whatever version it sees.
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      Random rnd(t + 1);
      while (!stop.load()) {
        const std::string k = Key(rnd.Uniform(4000));
        std::string v;
        Status s = db_->Get(ReadOptions(), k, &v);
        EXPECT_TRUE(s.ok() || s.IsNotFound()) << s.ToString();
        if (s.ok()) {
          EXPECT_EQ(k, v);
        }
        std::vector<std::string> names = {Key(rnd.Uniform(4000)), Key(rnd.Uniform(4000))};
        std::vector<Slice> keys(names.begin(), names.end());
        std::vector<std::string> values;
        std::vector<Status> statuses;
        db_->MultiGet(ReadOptions(), keys, &values, &statuses);
        for (size_t i = 0; i < keys.size(); ++i) {
          if (statuses[i].ok()) {
            EXPECT_EQ(names[i], values[i]);
          }
        }
        std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
        int n = 0;
        for (it->Seek(k); it->Valid() && n < 20; it->Next(), ++n) {
          EXPECT_EQ(it->key(), it->value());
        }
        EXPECT_TRUE(it->status().ok()) << it->status().ToString();
      }
    });
  }
  for (int i = 0; i < 40000; ++i) {
    const std::string k = Key((i * 7919) % 4000);
    if (i % 5 == 0) {
      ASSERT_OK(Delete(k));
    } else {
      ASSERT_OK(Put(k, k));
    }
  }
  stop = true;
  for (auto& th : readers) th.join();
  ASSERT_OK(db_->WaitForCompaction());
}

TEST_F(DBBasicTest, OnDiskDestroy) {
  const std::string dir = test::NewTempDir("db_basic") + "/db";
  Options o;
  o.create_if_missing = true;
  {
    std::unique_ptr<DB> db;
    ASSERT_OK(DB::Open(o, dir, &db));
    ASSERT_OK(db->Put(WriteOptions(), "k", "v"));
    ASSERT_OK(db->Flush(FlushOptions()));
    std::unique_ptr<DB> second;
    EXPECT_TRUE(DB::Open(o, dir, &second).IsIOError());
  }
  ASSERT_OK(DestroyDB(dir, o));
  EXPECT_FALSE(Env::Default()->FileExists(dir));
}

}  // namespace
}  // namespace learnkv
