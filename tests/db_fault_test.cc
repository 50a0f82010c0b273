// DB under I/O faults and power loss, through FaultInjectionEnv over an in-memory Env:
//  - a failed append or sync of the WAL, of a table being flushed or compacted, or of the
//    MANIFEST is returned to the caller, and the DB then refuses writes (a background error)
//    instead of acknowledging writes it may not be able to persist; reads keep working;
//  - reopening with the faults cleared recovers every acknowledged write;
//  - a simulated power loss (DropUnsyncedData) keeps every write made with sync=true, and
//    what survives is always a prefix of the writes, in order.
// Written against the public API only.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "learnkv/db.h"
#include "learnkv/env.h"
#include "learnkv/options.h"
#include "learnkv/write_batch.h"
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

// A failed write that is not reported leaves a writer stalled for good; rather than hang the
// suite, abort with the test's name.
class Watchdog {
 public:
  explicit Watchdog(int seconds)
      : thread_([this, seconds] {
          std::unique_lock<std::mutex> l(mu_);
          if (!cv_.wait_for(l, std::chrono::seconds(seconds), [this] { return done_; })) {
            const auto* info = testing::UnitTest::GetInstance()->current_test_info();
            std::fprintf(stderr, "%s.%s hung for %d s (a stalled write or flush?)\n",
                         info ? info->test_suite_name() : "?", info ? info->name() : "?", seconds);
            std::abort();
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> l(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

std::string Key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "key%06d", i);
  return buf;
}

std::string Value(int i, int round = 0) {
  return "value-" + std::to_string(i) + "-" + std::to_string(round) + std::string(60, 'x');
}

class DBFaultTest : public testing::Test {
 protected:
  DBFaultTest() : base_(NewMemEnv(Env::Default())), env_(base_.get()) {
    options_.env = &env_;
    options_.create_if_missing = true;
    options_.write_buffer_size = 1 << 20;  // flushes only when a test asks
  }
  void SetUp() override { ASSERT_OK(Open()); }
  void TearDown() override { Close(); }

  Status Open() { return DB::Open(options_, kDb, &db_); }
  // Closes the DB; its status is not checked (after a fault it may report the error).
  void Close() {
    if (db_ != nullptr) {
      db_->Close();
      db_.reset();
    }
  }
  void Reopen() {
    Close();
    env_.ClearFaults();
    ASSERT_OK(Open());
  }

  // Puts keys [from, to) and records them as acknowledged.
  void PutRange(int from, int to, const WriteOptions& wo = WriteOptions()) {
    for (int i = from; i < to; ++i) {
      ASSERT_OK(db_->Put(wo, Key(i), Value(i)));
      acked_[Key(i)] = Value(i);
    }
  }

  // Every acknowledged write reads back.
  void CheckAcked() {
    for (const auto& [k, v] : acked_) {
      std::string got;
      const Status s = db_->Get(ReadOptions(), k, &got);
      ASSERT_TRUE(s.ok()) << k << ": " << s.ToString();
      ASSERT_EQ(v, got) << k;
    }
  }

  void ExpectAbsent(const std::string& key) {
    std::string got;
    const Status s = db_->Get(ReadOptions(), key, &got);
    EXPECT_TRUE(s.IsNotFound()) << key << ": " << s.ToString() << " '" << got << "'";
  }

  // After a fault the DB refuses writes, even once the fault is gone.
  void ExpectWritesRefused(const std::string& what) {
    env_.ClearFaults();
    Status s = db_->Put(WriteOptions(), "refused1", "x");
    EXPECT_FALSE(s.ok()) << "a Put was acknowledged after " << what;
    WriteBatch batch;
    batch.Put("refused2", "x");
    s = db_->Write(WriteOptions(), &batch);
    EXPECT_FALSE(s.ok()) << "a Write was acknowledged after " << what;
    s = db_->Delete(WriteOptions(), Key(0));
    EXPECT_FALSE(s.ok()) << "a Delete was acknowledged after " << what;
  }

  // Reopens without faults and checks the acknowledged writes are all there and the refused
  // ones are not; then the DB takes writes again.
  void CheckRecovery() {
    ASSERT_NO_FATAL_FAILURE(Reopen());
    ASSERT_NO_FATAL_FAILURE(CheckAcked());
    ExpectAbsent("refused1");
    ExpectAbsent("refused2");
    ASSERT_OK(db_->Put(WriteOptions(), "after", "recovery"));
    ASSERT_OK(db_->Flush(FlushOptions()));
    ASSERT_OK(db_->CompactRange(nullptr, nullptr));
    ASSERT_NO_FATAL_FAILURE(CheckAcked());
  }

  const std::string kDb = "/db";
  std::unique_ptr<Env> base_;
  FaultInjectionEnv env_;
  Options options_;
  std::unique_ptr<DB> db_;
  std::map<std::string, std::string> acked_;
  Watchdog watchdog_{60};
};

// ---- The WAL

TEST_F(DBFaultTest, WalAppendFailureIsReturnedAndStopsWrites) {
  PutRange(0, 100);
  env_.FailNextAppend(".log");
  const Status s = db_->Put(WriteOptions(), "failed", "x");
  ASSERT_FALSE(s.ok()) << "a write whose WAL append failed was acknowledged";
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_GE(env_.injected_failures(), 1u);
  ExpectWritesRefused("a failed WAL append");
  ASSERT_NO_FATAL_FAILURE(CheckAcked());  // reads still work
  ASSERT_NO_FATAL_FAILURE(CheckRecovery());
}

TEST_F(DBFaultTest, WalAppendFailureInABatch) {
  PutRange(0, 10);
  WriteBatch batch;
  for (int i = 0; i < 50; ++i) batch.Put("batch" + std::to_string(i), "x");
  env_.SetAppendsFail(true, ".log");
  ASSERT_FALSE(db_->Write(WriteOptions(), &batch).ok());
  ExpectWritesRefused("a failed batch");
  ASSERT_NO_FATAL_FAILURE(Reopen());
  ASSERT_NO_FATAL_FAILURE(CheckAcked());
  for (int i = 0; i < 50; ++i) ExpectAbsent("batch" + std::to_string(i));  // none of it
}

TEST_F(DBFaultTest, WalSyncFailureIsReturnedAndStopsWrites) {
  WriteOptions sync;
  sync.sync = true;
  PutRange(0, 50, sync);
  PutRange(50, 100);
  env_.FailNextSync(".log");
  const Status s = db_->Put(sync, "failed", "x");
  ASSERT_FALSE(s.ok()) << "a sync write whose WAL sync failed was acknowledged";
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  ExpectWritesRefused("a failed WAL sync");
  ASSERT_NO_FATAL_FAILURE(CheckAcked());
  ASSERT_NO_FATAL_FAILURE(CheckRecovery());
}

// ---- Flush and compaction

struct FlushFault {
  const char* name;
  bool sync;           // fail syncs rather than appends
  const char* filter;  // which files
};

void PrintTo(const FlushFault& f, std::ostream* os) { *os << f.name; }

class DBFlushFaultTest : public DBFaultTest, public testing::WithParamInterface<FlushFault> {};

TEST_P(DBFlushFaultTest, FlushFailureIsReturnedAndStopsWrites) {
  const FlushFault& f = GetParam();
  PutRange(0, 500);
  if (f.sync) {
    env_.SetSyncsFail(true, f.filter);
  } else {
    env_.SetAppendsFail(true, f.filter);
  }
  const Status s = db_->Flush(FlushOptions());
  ASSERT_FALSE(s.ok()) << "Flush succeeded although every " << f.filter
                       << (f.sync ? " sync" : " append") << " failed";
  EXPECT_GE(env_.injected_failures(), 1u);
  ExpectWritesRefused(std::string("a failed flush (") + f.name + ")");
  ASSERT_NO_FATAL_FAILURE(CheckAcked());  // still readable from the memtable
  ASSERT_NO_FATAL_FAILURE(CheckRecovery());
}

INSTANTIATE_TEST_SUITE_P(Faults, DBFlushFaultTest,
                         testing::Values(FlushFault{"SstAppend", false, ".sst"},
                                         FlushFault{"SstSync", true, ".sst"},
                                         FlushFault{"ManifestAppend", false, "MANIFEST"},
                                         FlushFault{"ManifestSync", true, "MANIFEST"}),
                         [](const testing::TestParamInfo<FlushFault>& info) {
                           return std::string(info.param.name);
                         });

TEST_F(DBFaultTest, BackgroundFlushFailureStopsWrites) {
  Close();
  options_.write_buffer_size = 16 << 10;  // flushes start by themselves
  ASSERT_OK(Open());
  PutRange(0, 100);
  env_.SetAppendsFail(true, ".sst");
  int i = 100;
  Status s;
  for (; i < 20000; ++i) {
    s = db_->Put(WriteOptions(), Key(i), Value(i));
    if (!s.ok()) break;
    acked_[Key(i)] = Value(i);
  }
  ASSERT_FALSE(s.ok()) << "20000 writes acknowledged although no memtable can be flushed";
  ExpectWritesRefused("a failed background flush");
  ASSERT_NO_FATAL_FAILURE(CheckRecovery());
}

TEST_F(DBFaultTest, CompactionFailureIsReturnedAndKeepsItsInputs) {
  Close();
  options_.disable_auto_compactions = true;
  ASSERT_OK(Open());
  for (int t = 0; t < 4; ++t) {  // four overlapping level-0 tables
    for (int i = t; i < 400; i += 2) {
      ASSERT_OK(db_->Put(WriteOptions(), Key(i), Value(i, t)));
      acked_[Key(i)] = Value(i, t);
    }
    ASSERT_OK(db_->Flush(FlushOptions()));
  }
  env_.SetAppendsFail(true, ".sst");
  const Status s = db_->CompactRange(nullptr, nullptr);
  ASSERT_FALSE(s.ok()) << "CompactRange succeeded although every table append failed";
  ExpectWritesRefused("a failed compaction");
  ASSERT_NO_FATAL_FAILURE(CheckAcked());  // the inputs are still there
  ASSERT_NO_FATAL_FAILURE(CheckRecovery());
}

TEST_F(DBFaultTest, CompactionManifestFailure) {
  Close();
  options_.disable_auto_compactions = true;
  ASSERT_OK(Open());
  for (int t = 0; t < 3; ++t) {
    PutRange(t * 100, t * 100 + 150);
    ASSERT_OK(db_->Flush(FlushOptions()));
  }
  env_.SetAppendsFail(true, "MANIFEST");
  ASSERT_FALSE(db_->CompactRange(nullptr, nullptr).ok());
  ExpectWritesRefused("a failed MANIFEST write during compaction");
  ASSERT_NO_FATAL_FAILURE(CheckAcked());
  ASSERT_NO_FATAL_FAILURE(CheckRecovery());
}

// ---- Power loss

class DBPowerLossTest : public DBFaultTest {
 protected:
  // Writes key i = value for i in [from, to); every sync_every-th write (from the start)
  // has sync=true. Returns one past the last synced index (from if none).
  int WriteSeq(int from, int to, int sync_every, int round) {
    int synced_upto = from;
    for (int i = from; i < to; ++i) {
      WriteOptions wo;
      wo.sync = sync_every > 0 && (i + 1) % sync_every == 0;
      const Status s = db_->Put(wo, Key(i), Value(i, round));
      EXPECT_TRUE(s.ok()) << s.ToString();
      if (!s.ok()) return synced_upto;
      if (wo.sync) synced_upto = i + 1;
    }
    return synced_upto;
  }

  void PowerLoss() {
    Close();
    ASSERT_OK(env_.DropUnsyncedData());
    ASSERT_OK(env_.RemoveUnsyncedCreations());
    env_.ClearFaults();
    ASSERT_OK(Open());
  }

  // The DB holds exactly keys [0, n) for some n >= at_least, with the values of `round` for
  // the keys written in that round (from `from` on) and of earlier rounds below. Returns n.
  int CheckPrefix(int at_least, int from, int round, const std::map<int, int>& round_of) {
    std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
    int n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++n) {
      EXPECT_EQ(Key(n), it->key().ToString()) << "not a prefix of the writes";
      if (Key(n) != it->key().ToString()) return -1;
      const int r = n >= from ? round : round_of.at(n);
      EXPECT_EQ(Value(n, r), it->value().ToString()) << Key(n);
    }
    EXPECT_TRUE(it->status().ok()) << it->status().ToString();
    EXPECT_GE(n, at_least) << "synced writes lost: only " << n << " of " << at_least
                           << " synced keys survived";
    return n;
  }
};

TEST_F(DBPowerLossTest, SyncedWritesSurvive) {
  Close();
  options_.write_buffer_size = 16 << 10;  // flushes and compactions between the losses
  options_.target_file_size_base = 32 << 10;
  options_.max_bytes_for_level_base = 128 << 10;
  ASSERT_OK(Open());
  Random rnd(7);
  std::map<int, int> round_of;  // key index -> the round whose value it holds
  int n = 0;
  for (int round = 0; round < 8; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const int to = n + 500 + rnd.Uniform(1500);
    const int sync_every = round == 2 ? 0 : 1 + rnd.Uniform(50);  // round 2: no sync at all
    const int synced = WriteSeq(n, to, sync_every, round);
    if (round % 2 == 1) ASSERT_OK(db_->Flush(FlushOptions()));  // flushed data is durable
    const int durable = round % 2 == 1 ? to : synced;
    ASSERT_NO_FATAL_FAILURE(PowerLoss());
    const int survived = CheckPrefix(durable, n, round, round_of);
    ASSERT_GE(survived, 0);
    if (HasFailure()) return;
    for (int i = n; i < survived; ++i) round_of[i] = round;
    n = survived;
  }
}

TEST_F(DBPowerLossTest, UnsyncedWritesMayBeLostButNotReordered) {
  PutRange(0, 200);
  ASSERT_OK(db_->Flush(FlushOptions()));  // durable
  int n = 200;
  WriteSeq(n, 1200, 0, 1);
  ASSERT_NO_FATAL_FAILURE(PowerLoss());
  std::map<int, int> round_of;
  for (int i = 0; i < 200; ++i) round_of[i] = 0;
  n = CheckPrefix(200, 200, 1, round_of);
  ASSERT_GE(n, 200);
  // The DB keeps working after the loss.
  ASSERT_OK(db_->Put(WriteOptions(), "zzz", "after"));
  ASSERT_OK(db_->Flush(FlushOptions()));
  std::string v;
  ASSERT_OK(db_->Get(ReadOptions(), "zzz", &v));
  EXPECT_EQ("after", v);
}

// Recovery itself writes files (a new MANIFEST, a new WAL, maybe a table); a power loss right
// after Open, before any other write, must not lose what recovery rebuilt from.
TEST_F(DBPowerLossTest, PowerLossRightAfterRecovery) {
  WriteOptions sync;
  sync.sync = true;
  PutRange(0, 300, sync);
  ASSERT_OK(db_->Flush(FlushOptions()));
  PutRange(300, 400, sync);  // in the WAL only
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE("loss " + std::to_string(i));
    ASSERT_NO_FATAL_FAILURE(PowerLoss());
    ASSERT_NO_FATAL_FAILURE(CheckAcked());
  }
  PutRange(400, 450, sync);
  ASSERT_NO_FATAL_FAILURE(PowerLoss());
  ASSERT_NO_FATAL_FAILURE(CheckAcked());
}

// Several threads writing with sync=true (the engine may commit them as one group): a write
// that returned OK survives a power loss, also when a WAL sync starts failing halfway, after
// which no write may be acknowledged.
class DBGroupCommitTest : public DBPowerLossTest, public testing::WithParamInterface<bool> {};

TEST_P(DBGroupCommitTest, AcknowledgedSyncWritesSurvive) {
  const bool inject = GetParam();
  Close();
  options_.write_buffer_size = 64 << 10;
  ASSERT_OK(Open());
  constexpr int kThreads = 4;
  // Without a fault each thread writes kWrites keys; with one, they write until refused.
  constexpr int kWrites = 400;
  std::atomic<bool> faulted{false};
  std::atomic<int> acked_after_fault{0};
  std::atomic<int> acked_total{0};
  std::vector<std::vector<int>> acked(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      WriteOptions wo;
      wo.sync = true;
      for (int i = 0; inject ? i < 1000000 : i < kWrites; ++i) {
        const int k = t * 1000000 + i;
        const bool was_faulted = faulted.load();
        const Status s = db_->Put(wo, Key(k), Value(k));
        if (!s.ok()) {
          if (!inject) ADD_FAILURE() << s.ToString();
          return;
        }
        if (was_faulted) ++acked_after_fault;
        acked[t].push_back(k);
        ++acked_total;
      }
    });
  }
  if (inject) {
    while (acked_total.load() < 1000) std::this_thread::yield();
    env_.SetSyncsFail(true, ".log");
    faulted.store(true);
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(0, acked_after_fault.load()) << "writes acknowledged although every WAL sync fails";
  size_t total = 0;
  for (const auto& v : acked) total += v.size();
  if (!inject) {
    EXPECT_EQ(kThreads * kWrites, static_cast<int>(total));
  }
  ASSERT_NO_FATAL_FAILURE(PowerLoss());
  for (int t = 0; t < kThreads; ++t) {
    for (int k : acked[t]) {
      std::string v;
      const Status s = db_->Get(ReadOptions(), Key(k), &v);
      ASSERT_TRUE(s.ok()) << "acknowledged sync write " << Key(k) << " lost: " << s.ToString();
      ASSERT_EQ(Value(k), v);
    }
  }
  RecordProperty("acknowledged", std::to_string(total));
}

INSTANTIATE_TEST_SUITE_P(Faults, DBGroupCommitTest, testing::Bool(),
                         [](const testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "SyncFails" : "NoFault");
                         });

}  // namespace
}  // namespace learnkv
