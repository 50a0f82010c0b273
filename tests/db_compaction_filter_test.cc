// The engine hooks the Redis-protocol server relies on:
//  * the compaction filter (include/learnkv/compaction_filter.h): removed values become
//    tombstones or vanish at the bottom level, never resurrect an older version from a deeper
//    level, and never change what a snapshot reads; deletions are never shown to it;
//  * DB::SyncWAL: writes go on while its fsync runs (an Env whose WAL sync waits on a latch,
//    so no timing is assumed), synced writes wait for it, concurrent calls are safe, and what
//    was acknowledged before it survives a simulated power loss.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/db_impl.h"
#include "learnkv/compaction_filter.h"
#include "learnkv/db.h"
#include "learnkv/env.h"
#include "util/fault_injection_env.h"
#include "util/mem_env.h"
#include "util/mutexlock.h"

namespace learnkv {
namespace {

#define ASSERT_OK(expr)                    \
  do {                                     \
    const Status _s = (expr);              \
    ASSERT_TRUE(_s.ok()) << _s.ToString(); \
  } while (0)

// Removes every value that starts with "expired"; remembers what it was shown.
class ExpiryFilter final : public CompactionFilter {
 public:
  Decision Filter(int level, const Slice& key, const Slice& existing_value) const override {
    MutexLock l(&mu_);
    seen_.insert(key.ToString());
    levels_.insert(level);
    return existing_value.starts_with("expired") ? Decision::kRemove : Decision::kKeep;
  }
  const char* Name() const override { return "ExpiryFilter"; }

  bool Saw(const std::string& key) const {
    MutexLock l(&mu_);
    return seen_.count(key) > 0;
  }
  std::set<int> levels() const {
    MutexLock l(&mu_);
    return levels_;
  }
  void Forget() {
    MutexLock l(&mu_);
    seen_.clear();
  }

 private:
  mutable Mutex mu_;
  mutable std::set<std::string> seen_ GUARDED_BY(mu_);
  mutable std::set<int> levels_ GUARDED_BY(mu_);
};

class CompactionFilterTest : public testing::Test {
 protected:
  CompactionFilterTest() : env_(NewMemEnv(Env::Default())) {
    filter_ = std::make_shared<ExpiryFilter>();
    options_.env = env_.get();
    options_.create_if_missing = true;
    options_.info_log = false;
    options_.disable_auto_compactions = true;
    options_.compaction_filter = filter_;
    Reopen();
  }

  void Reopen() {
    db_.reset();
    EXPECT_TRUE(DB::Open(options_, "/db", &db_).ok());
  }
  DBImpl* impl() { return static_cast<DBImpl*>(db_.get()); }

  std::string Get(const std::string& key, const Snapshot* snap = nullptr) {
    ReadOptions ro;
    ro.snapshot = snap;
    std::string v;
    Status s = db_->Get(ro, key, &v);
    if (s.IsNotFound()) return "NOT_FOUND";
    return s.ok() ? v : s.ToString();
  }
  void Put(const std::string& k, const std::string& v) {
    ASSERT_OK(db_->Put(WriteOptions(), k, v));
  }
  std::string Contents(const Snapshot* snap = nullptr) {
    ReadOptions ro;
    ro.snapshot = snap;
    std::unique_ptr<Iterator> it = db_->NewIterator(ro);
    std::string r;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      r += it->key().ToString() + "=" + it->value().ToString() + " ";
    }
    EXPECT_TRUE(it->status().ok());
    return r;
  }
  int FilesAt(int level) {
    std::string v;
    EXPECT_TRUE(db_->GetProperty("learnkv.num-files-at-level" + std::to_string(level), &v));
    return std::stoi(v);
  }
  // Entries in the tables of all levels (tombstones included).
  uint64_t TableEntries() {
    std::string listing;
    EXPECT_TRUE(db_->GetProperty("learnkv.sstables", &listing));
    uint64_t total = 0;
    for (size_t pos = 0; (pos = listing.find(" entries ", pos)) != std::string::npos; ++pos) {
      total += std::stoull(listing.substr(pos + 9));
    }
    return total;
  }
  void CompactLevel(int level) { ASSERT_OK(impl()->TEST_CompactRange(level, nullptr, nullptr)); }

  std::unique_ptr<Env> env_;
  std::shared_ptr<ExpiryFilter> filter_;
  Options options_;
  std::unique_ptr<DB> db_;
};

TEST_F(CompactionFilterTest, RemovesAtTheBottomLevel) {
  for (int i = 0; i < 100; ++i) {
    Put("k" + std::to_string(100 + i), i % 3 == 0 ? "expired:" + std::to_string(i) : "live");
  }
  ASSERT_OK(db_->Flush(FlushOptions()));
  // Flushes do not filter.
  EXPECT_EQ("expired:0", Get("k100"));
  EXPECT_FALSE(filter_->Saw("k100"));
  ASSERT_OK(db_->CompactRange(nullptr, nullptr));
  EXPECT_TRUE(filter_->Saw("k100"));
  EXPECT_EQ("NOT_FOUND", Get("k100"));
  EXPECT_EQ("live", Get("k101"));
  int live = 0;
  for (int i = 0; i < 100; ++i) live += i % 3 != 0;
  // Nothing deeper holds the keys: no tombstones were written either.
  EXPECT_EQ(static_cast<uint64_t>(live), TableEntries());
  EXPECT_EQ(std::set<int>{1}, filter_->levels());
  std::string stats;
  ASSERT_TRUE(db_->GetProperty("learnkv.stats", &stats));
  EXPECT_NE(std::string::npos, stats.find("Compaction filter: 34 values removed")) << stats;
  Reopen();
  EXPECT_EQ("NOT_FOUND", Get("k100"));
  EXPECT_EQ("live", Get("k101"));
}

TEST_F(CompactionFilterTest, RemovedKeyDoesNotResurrectAnOlderVersion) {
  Put("a", "live-a");
  Put("k", "old-live");
  Put("z", "live-z");
  ASSERT_OK(db_->Flush(FlushOptions()));
  CompactLevel(0);
  CompactLevel(1);
  ASSERT_EQ(1, FilesAt(2));

  Put("k", "expired-new");
  Put("m", "live-m");
  ASSERT_OK(db_->Flush(FlushOptions()));
  CompactLevel(0);  // L0 -> L1: L2 still holds "old-live"
  ASSERT_EQ(1, FilesAt(1));
  EXPECT_TRUE(filter_->Saw("k"));
  EXPECT_EQ("NOT_FOUND", Get("k"));
  EXPECT_EQ("a=live-a m=live-m z=live-z ", Contents());
  // The tombstone stayed at L1 to hide L2's version: 2 entries there (m and k's tombstone).
  EXPECT_EQ(2u + 3u, TableEntries());

  filter_->Forget();
  CompactLevel(1);                  // the tombstone meets the old value at the bottom: both go
  EXPECT_FALSE(filter_->Saw("k"));  // a deletion is never shown to the filter
  EXPECT_EQ("NOT_FOUND", Get("k"));
  EXPECT_EQ("a=live-a m=live-m z=live-z ", Contents());
  EXPECT_EQ(3u, TableEntries());
  Reopen();
  EXPECT_EQ("NOT_FOUND", Get("k"));
}

TEST_F(CompactionFilterTest, SnapshotsKeepWhatTheySee) {
  Put("k", "live-v1");
  const Snapshot* s1 = db_->GetSnapshot();
  Put("k", "expired-v2");  // newer than every snapshot: may be filtered
  Put("j", "expired-j");
  const Snapshot* s2 = db_->GetSnapshot();  // sees expired-j and expired-v2
  ASSERT_OK(db_->CompactRange(nullptr, nullptr));
  // Both newest versions are visible to s2: not shown to the filter at all.
  EXPECT_FALSE(filter_->Saw("k"));
  EXPECT_FALSE(filter_->Saw("j"));
  EXPECT_EQ("expired-v2", Get("k"));
  EXPECT_EQ("expired-j", Get("j"));
  EXPECT_EQ("live-v1", Get("k", s1));
  EXPECT_EQ("NOT_FOUND", Get("j", s1));

  db_->ReleaseSnapshot(s2);
  CompactLevel(1);
  // No snapshot sees the newest versions now: they go, but s1 still reads its version.
  EXPECT_TRUE(filter_->Saw("k"));
  EXPECT_TRUE(filter_->Saw("j"));
  EXPECT_EQ("NOT_FOUND", Get("k"));
  EXPECT_EQ("NOT_FOUND", Get("j"));
  EXPECT_EQ("live-v1", Get("k", s1));
  EXPECT_EQ("k=live-v1 ", Contents(s1));
  EXPECT_EQ("", Contents());

  db_->ReleaseSnapshot(s1);
  CompactLevel(2);
  EXPECT_EQ("", Contents());
  EXPECT_EQ(0u, TableEntries());
}

TEST_F(CompactionFilterTest, DeletionsAreNotShown) {
  Put("d", "live");
  ASSERT_OK(db_->Flush(FlushOptions()));
  CompactLevel(0);
  CompactLevel(1);
  ASSERT_OK(db_->Delete(WriteOptions(), "d"));
  Put("e", "live");
  ASSERT_OK(db_->Flush(FlushOptions()));
  filter_->Forget();
  CompactLevel(0);
  EXPECT_FALSE(filter_->Saw("d"));
  EXPECT_TRUE(filter_->Saw("e"));
  EXPECT_EQ("NOT_FOUND", Get("d"));
  EXPECT_EQ("e=live ", Contents());
}

// ---- SyncWAL

// Latch: Wait blocks until Open.
class Latch {
 public:
  void Open() {
    MutexLock l(&mu_);
    open_ = true;
    cv_.SignalAll();
  }
  void Wait() {
    MutexLock l(&mu_);
    while (!open_) cv_.Wait();
  }
  bool IsOpen() {
    MutexLock l(&mu_);
    return open_;
  }

 private:
  Mutex mu_;
  CondVar cv_{&mu_};
  bool open_ GUARDED_BY(mu_) = false;
};

// An Env passing everything to `base`, except that once armed, the next Sync of a WAL file
// tells `entered` and waits for `release`.
class BlockingSyncEnv final : public Env {
 public:
  explicit BlockingSyncEnv(Env* base) : base_(base) {}

  void Arm(std::shared_ptr<Latch> entered, std::shared_ptr<Latch> release) {
    MutexLock l(&mu_);
    entered_ = std::move(entered);
    release_ = std::move(release);
  }
  std::atomic<int> wal_syncs{0};

  Status NewSequentialFile(const std::string& f, std::unique_ptr<SequentialFile>* r) override {
    return base_->NewSequentialFile(f, r);
  }
  Status NewRandomAccessFile(const std::string& f, std::unique_ptr<RandomAccessFile>* r) override {
    return base_->NewRandomAccessFile(f, r);
  }
  Status NewWritableFile(const std::string& f, std::unique_ptr<WritableFile>* r) override {
    Status s = base_->NewWritableFile(f, r);
    if (s.ok() && f.size() > 4 && f.compare(f.size() - 4, 4, ".log") == 0) {
      *r = std::make_unique<File>(this, std::move(*r));
    }
    return s;
  }
  Status NewAppendableFile(const std::string& f, std::unique_ptr<WritableFile>* r) override {
    return base_->NewAppendableFile(f, r);
  }
  bool FileExists(const std::string& f) override { return base_->FileExists(f); }
  Status GetChildren(const std::string& d, std::vector<std::string>* r) override {
    return base_->GetChildren(d, r);
  }
  Status RemoveFile(const std::string& f) override { return base_->RemoveFile(f); }
  Status CreateDir(const std::string& d) override { return base_->CreateDir(d); }
  Status RemoveDir(const std::string& d) override { return base_->RemoveDir(d); }
  Status GetFileSize(const std::string& f, uint64_t* s) override {
    return base_->GetFileSize(f, s);
  }
  Status IsDirectory(const std::string& p, bool* d) override { return base_->IsDirectory(p, d); }
  Status RenameFile(const std::string& s, const std::string& t) override {
    return base_->RenameFile(s, t);
  }
  Status SyncDir(const std::string& d) override { return base_->SyncDir(d); }
  Status LockFile(const std::string& f, std::unique_ptr<FileLock>* l) override {
    return base_->LockFile(f, l);
  }
  void StartThread(std::function<void()> fn) override { base_->StartThread(std::move(fn)); }
  uint64_t NowMicros() override { return base_->NowMicros(); }
  void SleepForMicroseconds(int micros) override { base_->SleepForMicroseconds(micros); }

 private:
  class File final : public WritableFile {
   public:
    File(BlockingSyncEnv* env, std::unique_ptr<WritableFile> base)
        : env_(env), base_(std::move(base)) {}
    Status Append(const Slice& data) override { return base_->Append(data); }
    Status Flush() override { return base_->Flush(); }
    Status Sync() override {
      env_->BeforeWalSync();
      return base_->Sync();
    }
    Status Close() override { return base_->Close(); }
    uint64_t Size() const override { return base_->Size(); }

   private:
    BlockingSyncEnv* const env_;
    const std::unique_ptr<WritableFile> base_;
  };

  void BeforeWalSync() {
    ++wal_syncs;
    std::shared_ptr<Latch> entered, release;
    {
      MutexLock l(&mu_);
      entered = std::move(entered_);
      release = std::move(release_);
    }
    if (entered == nullptr) return;
    entered->Open();
    release->Wait();
  }

  Env* const base_;
  Mutex mu_;
  std::shared_ptr<Latch> entered_ GUARDED_BY(mu_);
  std::shared_ptr<Latch> release_ GUARDED_BY(mu_);
};

class SyncWalTest : public testing::Test {
 protected:
  SyncWalTest()
      : mem_(NewMemEnv(Env::Default())),
        fault_(std::make_unique<FaultInjectionEnv>(mem_.get())),
        env_(std::make_unique<BlockingSyncEnv>(fault_.get())) {
    options_.env = env_.get();
    options_.create_if_missing = true;
    options_.info_log = false;
    Open();
  }

  void Open() { ASSERT_OK(DB::Open(options_, "/db", &db_)); }
  std::string Get(const std::string& key) {
    std::string v;
    Status s = db_->Get(ReadOptions(), key, &v);
    return s.IsNotFound() ? "NOT_FOUND" : (s.ok() ? v : s.ToString());
  }

  // Runs fn on a thread; waits up to a minute for it (a guard against a hang, not a timing
  // check: any working engine finishes in far less).
  static bool Finishes(std::future<void>* done) {
    return done->wait_for(std::chrono::seconds(60)) == std::future_status::ready;
  }

  std::unique_ptr<Env> mem_;
  std::unique_ptr<FaultInjectionEnv> fault_;
  std::unique_ptr<BlockingSyncEnv> env_;
  Options options_;
  std::unique_ptr<DB> db_;
};

TEST_F(SyncWalTest, WritesGoOnWhileTheWalIsSynced) {
  ASSERT_OK(db_->Put(WriteOptions(), "before", "1"));
  auto entered = std::make_shared<Latch>(), release = std::make_shared<Latch>();
  env_->Arm(entered, release);
  std::atomic<bool> sync_returned{false};
  Status sync_status;
  std::thread syncer([&] {
    sync_status = db_->SyncWAL();
    sync_returned = true;
  });
  entered->Wait();  // SyncWAL is inside the WAL's fsync, which cannot finish yet

  std::future<void> writes = std::async(std::launch::async, [&] {
    for (int i = 0; i < 100; ++i) {
      EXPECT_TRUE(db_->Put(WriteOptions(), "during" + std::to_string(i), "2").ok());
    }
    WriteBatch batch;
    batch.Put("batch", "3");
    batch.Delete("during0");
    EXPECT_TRUE(db_->Write(WriteOptions(), &batch).ok());
  });
  const bool finished = Finishes(&writes);
  EXPECT_TRUE(finished) << "writes waited for SyncWAL's fsync";
  EXPECT_FALSE(sync_returned.load());
  EXPECT_EQ("NOT_FOUND", Get("during0"));
  EXPECT_EQ("2", Get("during99"));
  EXPECT_EQ("3", Get("batch"));

  release->Open();
  syncer.join();
  if (!finished) writes.wait();
  ASSERT_OK(sync_status);

  // Everything is still there after a reopen (the writes went on into another WAL).
  db_.reset();
  Open();
  EXPECT_EQ("1", Get("before"));
  EXPECT_EQ("2", Get("during99"));
  EXPECT_EQ("NOT_FOUND", Get("during0"));
  EXPECT_EQ("3", Get("batch"));
}

TEST_F(SyncWalTest, SyncedWritesWaitForIt) {
  ASSERT_OK(db_->Put(WriteOptions(), "a", "1"));
  auto entered = std::make_shared<Latch>(), release = std::make_shared<Latch>();
  env_->Arm(entered, release);
  std::thread syncer([&] { EXPECT_TRUE(db_->SyncWAL().ok()); });
  entered->Wait();
  std::atomic<bool> synced_put_done{false};
  std::thread synced_writer([&] {
    WriteOptions wo;
    wo.sync = true;
    EXPECT_TRUE(db_->Put(wo, "b", "2").ok());
    synced_put_done = true;
  });
  // The synced write cannot be acknowledged while the older data's fsync is open. (Checking
  // after a pause can only miss a bug, never report a false one.)
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(synced_put_done.load());
  release->Open();
  syncer.join();
  synced_writer.join();
  EXPECT_TRUE(synced_put_done.load());
  EXPECT_EQ("2", Get("b"));
}

TEST_F(SyncWalTest, AcknowledgedWritesSurvivePowerLoss) {
  // Writes before a SyncWAL, writes during its fsync (into the next WAL), a second SyncWAL:
  // after a power loss every one of them is back.
  for (int i = 0; i < 50; ++i) ASSERT_OK(db_->Put(WriteOptions(), "a" + std::to_string(i), "1"));
  auto entered = std::make_shared<Latch>(), release = std::make_shared<Latch>();
  env_->Arm(entered, release);
  std::thread syncer([&] { EXPECT_TRUE(db_->SyncWAL().ok()); });
  entered->Wait();
  for (int i = 0; i < 50; ++i) ASSERT_OK(db_->Put(WriteOptions(), "b" + std::to_string(i), "2"));
  release->Open();
  syncer.join();
  ASSERT_OK(db_->SyncWAL());
  // Nothing to do now: no WAL fsync at all.
  const int syncs = env_->wal_syncs.load();
  ASSERT_OK(db_->SyncWAL());
  EXPECT_EQ(syncs, env_->wal_syncs.load());
  ASSERT_OK(db_->Put(WriteOptions(), "c", "unsynced"));

  db_.reset();  // a crash: nothing more is synced
  ASSERT_OK(fault_->DropUnsyncedData());
  ASSERT_OK(fault_->RemoveUnsyncedCreations());
  Open();
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ("1", Get("a" + std::to_string(i)));
    EXPECT_EQ("2", Get("b" + std::to_string(i)));
  }
}

TEST_F(SyncWalTest, ConcurrentCallsWithWritesAndFlushes) {
  db_.reset();
  options_.write_buffer_size = 16 << 10;  // many memtable (and WAL) switches
  Open();
  std::atomic<bool> stop{false};
  std::vector<std::thread> syncers;
  for (int t = 0; t < 3; ++t) {
    syncers.emplace_back([&] {
      while (!stop.load()) EXPECT_TRUE(db_->SyncWAL().ok());
    });
  }
  std::vector<std::thread> writers;
  for (int t = 0; t < 2; ++t) {
    writers.emplace_back([&, t] {
      WriteOptions wo;
      for (int i = 0; i < 3000; ++i) {
        wo.sync = i % 100 == 0;
        EXPECT_TRUE(
            db_->Put(wo, "w" + std::to_string(t) + "-" + std::to_string(i), std::string(20, 'v'))
                .ok());
      }
    });
  }
  for (std::thread& w : writers) w.join();
  ASSERT_OK(db_->SyncWAL());
  stop = true;
  for (std::thread& s : syncers) s.join();

  db_.reset();
  ASSERT_OK(fault_->DropUnsyncedData());
  ASSERT_OK(fault_->RemoveUnsyncedCreations());
  Open();
  for (int t = 0; t < 2; ++t) {
    for (int i = 0; i < 3000; i += 7) {
      EXPECT_EQ(std::string(20, 'v'), Get("w" + std::to_string(t) + "-" + std::to_string(i)));
    }
  }
}

TEST_F(SyncWalTest, CloseWaitsForARunningSync) {
  ASSERT_OK(db_->Put(WriteOptions(), "a", "1"));
  auto entered = std::make_shared<Latch>(), release = std::make_shared<Latch>();
  env_->Arm(entered, release);
  Status sync_status;
  std::thread syncer([&] { sync_status = db_->SyncWAL(); });
  entered->Wait();
  std::atomic<bool> closed{false};
  std::thread closer([&] {
    EXPECT_TRUE(db_->Close().ok());
    closed = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(closed.load());  // the file being synced is not closed underneath
  release->Open();
  syncer.join();
  closer.join();
  EXPECT_TRUE(sync_status.ok()) << sync_status.ToString();
  EXPECT_TRUE(db_->SyncWAL().IsAborted());
}

}  // namespace
}  // namespace learnkv
