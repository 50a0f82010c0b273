// DB under concurrent writers, readers, flushes and compactions (tiny memtables), checking
// what readers see against what writers have acknowledged. Written against the public API.
//
// Each writer owns a key range ("w<w>/k<j>", j < kKeys) and writes numbered batches 1, 2, ...
// Batch v touches three keys chosen by v (Touch() below: puts of "<v>:<key>|<padding>", and
// every seventh batch deletes instead) and sets the writer's marker "w<w>/max" to v. So the
// contents of a writer's range after batch M are known exactly (ExpectedAt), and readers check:
//  - a snapshot or an iterator shows, for each writer, the state after some batch M — the
//    marker's value — exactly: every key of the range at the version ExpectedAt(M) says,
//    nothing half applied, nothing missing; and M lies between the last batch acknowledged
//    before the snapshot was taken and the last batch started after;
//  - a Get of the latest state never returns a version older than the last acknowledged one,
//    nor older than one this reader saw before, nor one not yet written.
// Must be clean under ThreadSanitizer (-DLEARNKV_SANITIZE=thread).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "learnkv/db.h"
#include "learnkv/env.h"
#include "learnkv/iterator.h"
#include "learnkv/options.h"
#include "learnkv/write_batch.h"
#include "tests/support/test_util.h"
#include "util/mem_env.h"
#include "util/random.h"

namespace learnkv {
namespace {

#define ASSERT_OK(expr)                    \
  do {                                     \
    const Status _s = (expr);              \
    ASSERT_TRUE(_s.ok()) << _s.ToString(); \
  } while (0)

constexpr int kWriters = 4;
constexpr int kReaders = 4;
constexpr int kKeys = 64;  // per writer

std::string KeyOf(int w, int j) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "w%d/k%03d", w, j);
  return buf;
}
std::string MaxKey(int w) { return "w" + std::to_string(w) + "/max"; }

enum class Op { kNone, kPut, kDelete };

// What batch v does to key j of its writer's range.
Op Touch(uint64_t v, int j) {
  if (v == 0) return Op::kNone;
  if (static_cast<int>(v % kKeys) == j) return Op::kPut;
  if (static_cast<int>((v * 5 + 1) % kKeys) == j) return Op::kPut;
  if (static_cast<int>((v * 11 + 3) % kKeys) == j) return v % 7 == 0 ? Op::kDelete : Op::kPut;
  return Op::kNone;
}

std::string ValueOf(uint64_t v, const std::string& key) {
  std::string value = std::to_string(v) + ":" + key + "|";
  value.append(v % 50, static_cast<char>('a' + v % 26));
  return value;
}

// The version of key j a reader sees after batch M: 0 if absent (never written or deleted).
uint64_t ExpectedAt(uint64_t m, int j) {
  for (uint64_t v = m; v > 0; --v) {  // batch v touches v % kKeys, so at most kKeys steps
    const Op op = Touch(v, j);
    if (op == Op::kPut) return v;
    if (op == Op::kDelete) return 0;
  }
  return 0;
}

// Parses a value written for key; 0 (and *error set) if malformed.
uint64_t ParseVersion(const std::string& key, const Slice& value, std::string* error) {
  const std::string s = value.ToString();
  const size_t colon = s.find(':');
  if (colon == std::string::npos || colon == 0) {
    *error = "malformed value '" + s + "' for " + key;
    return 0;
  }
  const uint64_t v = std::strtoull(s.substr(0, colon).c_str(), nullptr, 10);
  if (v == 0 || ValueOf(v, key) != s) {
    *error = "malformed value '" + s + "' for " + key;
    return 0;
  }
  return v;
}

class DBConcurrencyTest : public testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      env_.reset(NewMemEnv(Env::Default()));
      options_.env = env_.get();
      dbname_ = "/db";
    } else {
      dbname_ = test::NewTempDir("db_concurrency");
    }
    options_.create_if_missing = true;
    options_.write_buffer_size = 24 << 10;
    options_.target_file_size_base = 48 << 10;
    options_.max_bytes_for_level_base = 192 << 10;
    options_.table_options.block_size = 1024;
    ASSERT_OK(DB::Open(options_, dbname_, &db_));
  }
  void TearDown() override {
    if (db_ != nullptr) {
      const Status s = db_->Close();
      EXPECT_TRUE(s.ok()) << s.ToString();
      db_.reset();
    }
    if (!HasFailure()) DestroyDB(dbname_, options_);
  }

  // Records a failure; stops reporting after a few so a broken engine does not flood the log.
  void Fail(const std::string& what) {
    if (failures_.fetch_add(1) < 10) ADD_FAILURE() << what;
  }
  bool Failed() const { return failures_.load() > 0; }

  void Writer(int w, uint64_t batches) {
    for (uint64_t v = 1; v <= batches && !Failed(); ++v) {
      WriteBatch batch;
      for (int j = 0; j < kKeys; ++j) {
        const Op op = Touch(v, j);
        if (op == Op::kPut) batch.Put(KeyOf(w, j), ValueOf(v, KeyOf(w, j)));
        if (op == Op::kDelete) batch.Delete(KeyOf(w, j));
      }
      batch.Put(MaxKey(w), std::to_string(v));
      started_[w].store(v);
      const Status s = db_->Write(WriteOptions(), &batch);
      if (!s.ok()) {
        Fail("writer " + std::to_string(w) + " batch " + std::to_string(v) + ": " + s.ToString());
        return;
      }
      acked_[w].store(v);
    }
  }

  // Checks one writer's range as a reader saw it at one point in time: `seen` maps key j to the
  // version read (0: absent), `marker` is the marker's value; lo/hi bound the batches that may
  // be visible.
  void CheckRange(const char* how, int w, uint64_t marker, const std::map<int, uint64_t>& seen,
                  uint64_t lo, uint64_t hi) {
    if (marker < lo || marker > hi) {
      Fail(std::string(how) + ": writer " + std::to_string(w) + " at batch " +
           std::to_string(marker) + ", outside [" + std::to_string(lo) + ", " + std::to_string(hi) +
           "]");
      return;
    }
    for (int j = 0; j < kKeys; ++j) {
      const uint64_t want = ExpectedAt(marker, j);
      auto it = seen.find(j);
      const uint64_t got = it == seen.end() ? 0 : it->second;
      if (got != want) {
        Fail(std::string(how) + ": " + KeyOf(w, j) + " at version " + std::to_string(got) +
             " but the snapshot is at batch " + std::to_string(marker) + ", expected version " +
             std::to_string(want));
        return;
      }
    }
  }

  // A snapshot of one writer's range, read with Get and with MultiGet.
  void CheckSnapshotReads(Random* rnd) {
    const int w = rnd->Uniform(kWriters);
    const uint64_t lo = acked_[w].load();
    const Snapshot* snap = db_->GetSnapshot();
    const uint64_t hi = started_[w].load();
    ReadOptions ro;
    ro.snapshot = snap;
    std::string v;
    Status s = db_->Get(ro, MaxKey(w), &v);
    const uint64_t marker = s.ok() ? std::strtoull(v.c_str(), nullptr, 10) : 0;
    if (!s.ok() && !s.IsNotFound()) Fail("Get(max): " + s.ToString());
    std::map<int, uint64_t> seen;
    std::vector<std::string> keys;
    for (int j = 0; j < kKeys; ++j) keys.push_back(KeyOf(w, j));
    for (int j = 0; j < kKeys; ++j) {
      s = db_->Get(ro, keys[j], &v);
      if (s.ok()) {
        std::string error;
        seen[j] = ParseVersion(keys[j], v, &error);
        if (!error.empty()) Fail(error);
      } else if (!s.IsNotFound()) {
        Fail("Get(" + keys[j] + "): " + s.ToString());
      }
    }
    CheckRange("snapshot Get", w, marker, seen, lo, hi);

    std::vector<Slice> slices(keys.begin(), keys.end());
    std::vector<std::string> values;
    std::vector<Status> statuses;
    db_->MultiGet(ro, slices, &values, &statuses);
    std::map<int, uint64_t> multi;
    for (int j = 0; j < kKeys && j < static_cast<int>(statuses.size()); ++j) {
      if (statuses[j].ok()) {
        std::string error;
        multi[j] = ParseVersion(keys[j], values[j], &error);
        if (!error.empty()) Fail(error);
      } else if (!statuses[j].IsNotFound()) {
        Fail("MultiGet(" + keys[j] + "): " + statuses[j].ToString());
      }
    }
    CheckRange("snapshot MultiGet", w, marker, multi, lo, hi);
    db_->ReleaseSnapshot(snap);
  }

  // A whole-DB iterator: every writer's range at one batch, forward and backward alike.
  void CheckIterator(Random* rnd) {
    uint64_t lo[kWriters], hi[kWriters];
    for (int w = 0; w < kWriters; ++w) lo[w] = acked_[w].load();
    std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
    for (int w = 0; w < kWriters; ++w) hi[w] = started_[w].load();

    std::vector<std::pair<std::string, std::string>> forward;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      forward.emplace_back(it->key().ToString(), it->value().ToString());
    }
    if (!it->status().ok()) Fail("iterator: " + it->status().ToString());
    size_t i = forward.size();
    for (it->SeekToLast(); it->Valid(); it->Prev()) {
      if (i == 0 || it->key().ToString() != forward[i - 1].first ||
          it->value().ToString() != forward[i - 1].second) {
        Fail("backward scan differs from the forward scan of the same iterator at " +
             it->key().ToString());
        return;
      }
      --i;
    }
    if (i != 0) Fail("backward scan misses " + forward[i - 1].first);

    std::map<int, uint64_t> seen[kWriters];
    uint64_t marker[kWriters] = {};
    for (const auto& [key, value] : forward) {
      int w = -1, j = -1;
      if (std::sscanf(key.c_str(), "w%d/k%d", &w, &j) == 2 && w >= 0 && w < kWriters &&
          KeyOf(w, j) == key) {
        std::string error;
        seen[w][j] = ParseVersion(key, value, &error);
        if (!error.empty()) Fail(error);
      } else if (std::sscanf(key.c_str(), "w%d/max", &w) == 1 && w >= 0 && w < kWriters) {
        marker[w] = std::strtoull(value.c_str(), nullptr, 10);
      } else {
        Fail("unexpected key " + key);
      }
    }
    for (int w = 0; w < kWriters; ++w) CheckRange("iterator", w, marker[w], seen[w], lo[w], hi[w]);

    // Seeks on the same iterator see the same state.
    const int w = rnd->Uniform(kWriters);
    const int j = rnd->Uniform(kKeys);
    it->Seek(KeyOf(w, j));
    const uint64_t want = ExpectedAt(marker[w], j);
    if (want != 0 && (!it->Valid() || it->key().ToString() != KeyOf(w, j))) {
      Fail("Seek(" + KeyOf(w, j) + ") missed a key the scan saw");
    }
    it->SeekForPrev(KeyOf(w, j));
    if (want != 0 && (!it->Valid() || it->key().ToString() != KeyOf(w, j))) {
      Fail("SeekForPrev(" + KeyOf(w, j) + ") missed a key the scan saw");
    }
  }

  // Point reads of the latest state: never older than what was acknowledged before the read
  // or seen before by this reader, never newer than what was started.
  void CheckLatestGet(Random* rnd, std::vector<uint64_t>* last_seen) {
    const int w = rnd->Uniform(kWriters);
    const int j = rnd->Uniform(kKeys);
    const std::string key = KeyOf(w, j);
    const uint64_t lo = acked_[w].load();
    std::string v;
    const Status s = db_->Get(ReadOptions(), key, &v);
    const uint64_t hi = started_[w].load();
    uint64_t& prev = (*last_seen)[w * kKeys + j];  // a batch known visible to this reader
    const uint64_t floor = std::max(lo, prev);
    uint64_t got = 0;  // 0: absent
    if (s.ok()) {
      std::string error;
      got = ParseVersion(key, v, &error);
      if (!error.empty()) return Fail(error);
    } else if (!s.IsNotFound()) {
      return Fail("Get(" + key + "): " + s.ToString());
    }
    // The read must show the key as it was after some batch in [floor, hi].
    for (uint64_t m = floor; m <= hi; ++m) {
      if (ExpectedAt(m, j) == got) {
        prev = std::max(prev, std::max(got, floor));
        return;
      }
    }
    Fail(key + ": read version " + std::to_string(got) + " (0: absent), but after batch " +
         std::to_string(floor) + " (already visible) it is version " +
         std::to_string(ExpectedAt(floor, j)) + " and only batches up to " + std::to_string(hi) +
         " were started");
  }

  void Reader(int r) {
    Random rnd(100 + r);
    std::vector<uint64_t> last_seen(kWriters * kKeys, 0);
    while (!writers_done_.load() && !Failed()) {
      const uint32_t p = rnd.Uniform(100);
      if (p < 70) {
        CheckLatestGet(&rnd, &last_seen);
      } else if (p < 90) {
        CheckSnapshotReads(&rnd);
      } else {
        CheckIterator(&rnd);
      }
      ++reads_;
    }
  }

  void Maintenance() {
    Random rnd(7);
    while (!writers_done_.load() && !Failed()) {
      Status s;
      if (rnd.OneIn(3)) {
        s = db_->Flush(FlushOptions());
      } else {
        const int w = rnd.Uniform(kWriters);
        const std::string a = KeyOf(w, rnd.Uniform(kKeys)), b = KeyOf(w, kKeys - 1);
        const Slice begin(a), end(b);
        s = rnd.OneIn(4) ? db_->CompactRange(nullptr, nullptr) : db_->CompactRange(&begin, &end);
      }
      if (!s.ok()) Fail("maintenance: " + s.ToString());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  void Run(uint64_t batches) {
    std::vector<std::thread> threads;
    for (int w = 0; w < kWriters; ++w)
      threads.emplace_back([this, w, batches] { Writer(w, batches); });
    std::vector<std::thread> others;
    for (int r = 0; r < kReaders; ++r) others.emplace_back([this, r] { Reader(r); });
    others.emplace_back([this] { Maintenance(); });
    for (std::thread& t : threads) t.join();
    writers_done_.store(true);
    for (std::thread& t : others) t.join();
  }

  std::unique_ptr<Env> env_;
  Options options_;
  std::string dbname_;
  std::unique_ptr<DB> db_;
  std::atomic<uint64_t> started_[kWriters] = {};
  std::atomic<uint64_t> acked_[kWriters] = {};
  std::atomic<bool> writers_done_{false};
  std::atomic<int> failures_{0};
  std::atomic<uint64_t> reads_{0};
};

#ifdef LEARNKV_SANITIZE
constexpr uint64_t kBatches = 1200;  // sanitizers run 5-20x slower
#else
constexpr uint64_t kBatches = 8000;
#endif

TEST_P(DBConcurrencyTest, ReadersSeeConsistentMonotoneVersions) {
  Run(kBatches);
  ASSERT_FALSE(Failed());
  EXPECT_GT(reads_.load(), 0u);
  RecordProperty("reads", std::to_string(reads_.load()));
  std::printf("%llu checks by readers\n", static_cast<unsigned long long>(reads_.load()));
  // The final state is every writer's last batch.
  ASSERT_OK(db_->WaitForCompaction());
  Random rnd(1);
  for (int i = 0; i < 5; ++i) CheckIterator(&rnd);
  for (int w = 0; w < kWriters; ++w) {
    std::string v;
    ASSERT_OK(db_->Get(ReadOptions(), MaxKey(w), &v));
    EXPECT_EQ(std::to_string(kBatches), v);
  }
  ASSERT_FALSE(Failed());
}

TEST_P(DBConcurrencyTest, LongLivedSnapshotsAndIterators) {
  // Half the batches, then a snapshot and an iterator held while the rest are written and
  // flushed and compacted underneath them.
  for (int w = 0; w < kWriters; ++w) Writer(w, kBatches / 2);
  const Snapshot* snap = db_->GetSnapshot();
  std::unique_ptr<Iterator> held = db_->NewIterator(ReadOptions());
  held->Seek(KeyOf(1, 10));  // pinned mid-way

  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([this, w] {
      const uint64_t first = acked_[w].load() + 1;
      for (uint64_t v = first; v <= kBatches && !Failed(); ++v) {
        WriteBatch batch;
        for (int j = 0; j < kKeys; ++j) {
          const Op op = Touch(v, j);
          if (op == Op::kPut) batch.Put(KeyOf(w, j), ValueOf(v, KeyOf(w, j)));
          if (op == Op::kDelete) batch.Delete(KeyOf(w, j));
        }
        batch.Put(MaxKey(w), std::to_string(v));
        started_[w].store(v);
        const Status s = db_->Write(WriteOptions(), &batch);
        if (!s.ok()) return Fail(s.ToString());
        acked_[w].store(v);
      }
    });
  }
  threads.emplace_back([this] { Maintenance(); });
  // Meanwhile read the snapshot over and over, from this thread.
  const uint64_t half = kBatches / 2;
  for (int round = 0; round < 20 && !Failed(); ++round) {
    ReadOptions ro;
    ro.snapshot = snap;
    std::unique_ptr<Iterator> it = db_->NewIterator(ro);
    std::map<int, uint64_t> seen[kWriters];
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      int w = -1, j = -1;
      if (std::sscanf(it->key().ToString().c_str(), "w%d/k%d", &w, &j) == 2) {
        std::string error;
        seen[w][j] = ParseVersion(it->key().ToString(), it->value(), &error);
        if (!error.empty()) Fail(error);
      }
    }
    if (!it->status().ok()) Fail(it->status().ToString());
    for (int w = 0; w < kWriters; ++w) CheckRange("held snapshot", w, half, seen[w], half, half);
  }
  for (size_t t = 0; t < kWriters; ++t) threads[t].join();
  writers_done_.store(true);
  threads.back().join();
  ASSERT_OK(db_->CompactRange(nullptr, nullptr));

  // The iterator created before all that still walks the old state.
  std::map<int, uint64_t> seen;
  for (; held->Valid() && held->key().starts_with("w1/k"); held->Next()) {
    int w = -1, j = -1;
    ASSERT_EQ(2, std::sscanf(held->key().ToString().c_str(), "w%d/k%d", &w, &j));
    std::string error;
    seen[j] = ParseVersion(held->key().ToString(), held->value(), &error);
    ASSERT_TRUE(error.empty()) << error;
  }
  ASSERT_OK(held->status());
  for (int j = 0; j < kKeys; ++j) {
    if (j < 10) continue;
    const uint64_t want = ExpectedAt(half, j);
    const uint64_t got = seen.count(j) ? seen[j] : 0;
    EXPECT_EQ(want, got) << KeyOf(1, j);
  }
  held.reset();
  db_->ReleaseSnapshot(snap);
  ASSERT_FALSE(Failed());
}

INSTANTIATE_TEST_SUITE_P(Envs, DBConcurrencyTest, testing::Bool(),
                         [](const testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "MemEnv" : "Disk");
                         });

}  // namespace
}  // namespace learnkv
