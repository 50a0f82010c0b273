// Differential test of the LearnedTable plugin: one random sequence of operations — puts,
// deletes, merges, DeleteRange, write batches, snapshots, flushes, compactions and reopening
// from the OPTIONS file — applied to two RocksDB instances, one with BlockBasedTable and one
// with LearnedTable. Every Get (at the latest state and at each live snapshot), MultiGet, full
// iteration in both directions, Seek and SeekForPrev must agree between the two.
#include <gtest/gtest.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/options_util.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <deque>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/rocksdb_plugin/test_util.h"

namespace learnkv::rocksdb_test {
namespace {

// One DB, reopened from its own OPTIONS file.
class TestDb {
 public:
  TestDb(std::string path, rocksdb::Options options)
      : path_(std::move(path)), options_(std::move(options)) {}
  ~TestDb() { Close(); }

  rocksdb::DB* db() { return db_; }
  const std::string& path() const { return path_; }

  void Open() {
    ASSERT_EQ(db_, nullptr);
    ASSERT_TRUE(rocksdb::DB::Open(options_, path_, &db_).ok());
  }

  // Closes and opens again with the options RocksDB wrote to the OPTIONS file, checking that
  // the table factory read back is the one the DB was created with.
  void ReopenFromOptionsFile() {
    Close();
    rocksdb::ConfigOptions config;
    config.ignore_unknown_options = false;
    config.env = options_.env;
    rocksdb::DBOptions db_options;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    rocksdb::Status s = rocksdb::LoadLatestOptions(config, path_, &db_options, &cfs);
    ASSERT_TRUE(s.ok()) << s.ToString();
    db_options.env = options_.env;  // not part of the file
    ASSERT_EQ(cfs.size(), 1u);
    ASSERT_STREQ(cfs[0].options.table_factory->Name(), options_.table_factory->Name());
    ASSERT_NE(cfs[0].options.merge_operator, nullptr);
    std::string mismatch;
    ASSERT_TRUE(options_.table_factory->AreEquivalent(config, cfs[0].options.table_factory.get(),
                                                      &mismatch))
        << mismatch;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    s = rocksdb::DB::Open(db_options, path_, cfs, &handles, &db_);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(handles.size(), 1u);
    handle_ = handles[0];
  }

  void Close() {
    if (db_ == nullptr) return;
    if (handle_ != nullptr) db_->DestroyColumnFamilyHandle(handle_);
    handle_ = nullptr;
    EXPECT_TRUE(db_->Close().ok());
    delete db_;
    db_ = nullptr;
  }

 private:
  const std::string path_;
  const rocksdb::Options options_;
  rocksdb::DB* db_ = nullptr;
  rocksdb::ColumnFamilyHandle* handle_ = nullptr;  // when opened with descriptors
};

std::string StatusName(const rocksdb::Status& s) {
  return s.ok() ? "OK" : s.IsNotFound() ? "NotFound" : s.ToString();
}

struct Param {
  const char* name;
  const char* learned_table;  // options string of the LearnedTable factory
};

class DifferentialTest : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    std::mt19937_64 rng(42);
    // Numbered keys (easy for the model) mixed with keys carrying random tails (not easy).
    std::set<std::string> keys;
    while (keys.size() < 2500) {
      char buf[16];
      snprintf(buf, sizeof(buf), "k%06d", static_cast<int>(rng() % 100000));
      std::string key = buf;
      if (rng() % 5 == 0) {
        for (size_t n = rng() % 9; n > 0; --n) key.push_back(static_cast<char>(rng() % 256));
      }
      keys.insert(key);
    }
    keys_.assign(keys.begin(), keys.end());

    // In memory: the test is about answers, and fsyncs would make it slow.
    env_.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
    rocksdb::Options base = SmallOptions();
    base.env = env_.get();
    rocksdb::Options bbt = base;
    bbt.table_factory.reset(rocksdb::NewBlockBasedTableFactory());
    rocksdb::ConfigOptions config;
    config.ignore_unknown_options = false;
    rocksdb::ColumnFamilyOptions learned_cf;
    rocksdb::Status s = rocksdb::GetColumnFamilyOptionsFromString(
        config, base, std::string("table_factory=") + GetParam().learned_table, &learned_cf);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_STREQ(learned_cf.table_factory->Name(), "LearnedTable");
    rocksdb::Options learned(base, learned_cf);

    const std::string dir = std::string("/differential_") + GetParam().name;
    ASSERT_TRUE(env_->CreateDirIfMissing(dir).ok());
    bbt_ = std::make_unique<TestDb>(dir + "/bbt", bbt);
    learned_ = std::make_unique<TestDb>(dir + "/learned", learned);
    bbt_->Open();
    learned_->Open();
  }

  void TearDown() override {
    ReleaseSnapshots(0);
    learned_.reset();
    bbt_.reset();
  }

  const std::string& RandomKey(std::mt19937_64& rng) { return keys_[rng() % keys_.size()]; }

  std::string RandomValue(std::mt19937_64& rng) {
    const size_t n = rng() % 10 == 0 ? 300 + rng() % 2000 : rng() % 120;
    std::string v(n, ' ');
    for (char& c : v) c = static_cast<char>('a' + rng() % 26);
    return v;
  }

  // Applies to both DBs; both must succeed.
  template <typename Op>
  void Both(Op op) {
    for (TestDb* t : {bbt_.get(), learned_.get()}) {
      const rocksdb::Status s = op(t->db());
      ASSERT_TRUE(s.ok()) << t->path() << ": " << s.ToString();
    }
  }

  void ReleaseSnapshots(size_t keep) {
    while (snapshots_.size() > keep) {
      bbt_->db()->ReleaseSnapshot(snapshots_.front().first);
      learned_->db()->ReleaseSnapshot(snapshots_.front().second);
      snapshots_.pop_front();
    }
  }

  void CheckGets(std::mt19937_64& rng, const rocksdb::Snapshot* sb, const rocksdb::Snapshot* sl) {
    rocksdb::ReadOptions rb, rl;
    rb.snapshot = sb;
    rl.snapshot = sl;
    for (int i = 0; i < 40; ++i) {
      const std::string& key = RandomKey(rng);
      std::string vb, vl;
      const rocksdb::Status b = bbt_->db()->Get(rb, key, &vb);
      const rocksdb::Status l = learned_->db()->Get(rl, key, &vl);
      ASSERT_EQ(StatusName(b), StatusName(l)) << "Get " << key;
      ASSERT_EQ(vb, vl) << "Get " << key;
    }
    std::vector<rocksdb::Slice> keys;
    for (int i = 0; i < 30; ++i) keys.emplace_back(RandomKey(rng));
    std::sort(keys.begin(), keys.end(),
              [](const rocksdb::Slice& a, const rocksdb::Slice& b) { return a.compare(b) < 0; });
    std::vector<std::string> vb, vl;
    const std::vector<rocksdb::Status> b = bbt_->db()->MultiGet(rb, keys, &vb);
    const std::vector<rocksdb::Status> l = learned_->db()->MultiGet(rl, keys, &vl);
    for (size_t i = 0; i < keys.size(); ++i) {
      ASSERT_EQ(StatusName(b[i]), StatusName(l[i])) << "MultiGet " << keys[i].ToString();
      if (b[i].ok()) {
        ASSERT_EQ(vb[i], vl[i]) << "MultiGet " << keys[i].ToString();
      }
    }
  }

  void CheckIterators(std::mt19937_64& rng, const rocksdb::Snapshot* sb,
                      const rocksdb::Snapshot* sl) {
    rocksdb::ReadOptions rb, rl;
    rb.snapshot = sb;
    rl.snapshot = sl;
    std::unique_ptr<rocksdb::Iterator> b(bbt_->db()->NewIterator(rb));
    std::unique_ptr<rocksdb::Iterator> l(learned_->db()->NewIterator(rl));
    auto same = [&](const char* what) {
      ASSERT_TRUE(b->status().ok()) << b->status().ToString();
      ASSERT_TRUE(l->status().ok()) << l->status().ToString();
      ASSERT_EQ(b->Valid(), l->Valid())
          << what << " at " << (b->Valid() ? b->key() : l->key()).ToString(true);
      if (b->Valid()) {
        ASSERT_EQ(b->key().ToString(true), l->key().ToString(true)) << what;
        ASSERT_EQ(b->value().ToString(), l->value().ToString()) << what;
      }
    };
    size_t n = 0;
    for (b->SeekToFirst(), l->SeekToFirst(); b->Valid() || l->Valid(); b->Next(), l->Next(), ++n) {
      same("forward");
      if (HasFatalFailure()) return;
    }
    same("forward end");
    for (b->SeekToLast(), l->SeekToLast(); b->Valid() || l->Valid(); b->Prev(), l->Prev()) {
      same("backward");
      if (HasFatalFailure()) return;
    }
    same("backward end");
    for (int i = 0; i < 20; ++i) {
      std::string target = RandomKey(rng);
      if (rng() % 2) target.push_back('\x01');  // between two keys
      const bool prev = rng() % 2;
      if (prev) {
        b->SeekForPrev(target);
        l->SeekForPrev(target);
      } else {
        b->Seek(target);
        l->Seek(target);
      }
      same(prev ? "SeekForPrev" : "Seek");
      for (int step = 0; step < 3 && b->Valid() && l->Valid(); ++step) {
        if (rng() % 2) {
          b->Next();
          l->Next();
        } else {
          b->Prev();
          l->Prev();
        }
        same("step");
        if (HasFatalFailure()) return;
      }
    }
    (void)n;
  }

  void Check(std::mt19937_64& rng) {
    CheckGets(rng, nullptr, nullptr);
    if (HasFatalFailure()) return;
    CheckIterators(rng, nullptr, nullptr);
    for (const auto& [sb, sl] : snapshots_) {
      if (HasFatalFailure()) return;
      CheckGets(rng, sb, sl);
      if (HasFatalFailure()) return;
      CheckIterators(rng, sb, sl);
    }
  }

  void Run(uint64_t seed, int ops) {
    std::mt19937_64 rng(seed);
    rocksdb::WriteOptions wo;
    for (int i = 0; i < ops; ++i) {
      SCOPED_TRACE("seed " + std::to_string(seed) + " op " + std::to_string(i));
      const int dice = static_cast<int>(rng() % 1000);
      if (dice < 470) {
        const std::string key = RandomKey(rng), value = RandomValue(rng);
        Both([&](rocksdb::DB* db) { return db->Put(wo, key, value); });
      } else if (dice < 590) {
        const std::string key = RandomKey(rng);
        Both([&](rocksdb::DB* db) { return db->Delete(wo, key); });
      } else if (dice < 770) {
        const std::string key = RandomKey(rng), op = std::to_string(rng() % 1000);
        Both([&](rocksdb::DB* db) { return db->Merge(wo, key, op); });
      } else if (dice < 810) {
        const size_t a = rng() % keys_.size();
        const size_t e = std::min(keys_.size() - 1, a + 1 + rng() % 40);
        Both([&](rocksdb::DB* db) {
          return db->DeleteRange(wo, db->DefaultColumnFamily(), keys_[a], keys_[e]);
        });
      } else if (dice < 870) {
        rocksdb::WriteBatch batch;
        for (int k = static_cast<int>(rng() % 20); k >= 0; --k) {
          const std::string key = RandomKey(rng);
          switch (rng() % 3) {
            case 0:
              batch.Put(key, RandomValue(rng));
              break;
            case 1:
              batch.Delete(key);
              break;
            default:
              batch.Merge(key, "b" + std::to_string(rng() % 100));
          }
        }
        Both([&](rocksdb::DB* db) {
          rocksdb::WriteBatch copy = batch;
          return db->Write(wo, &copy);
        });
      } else if (dice < 900) {
        ReleaseSnapshots(3);
        snapshots_.emplace_back(bbt_->db()->GetSnapshot(), learned_->db()->GetSnapshot());
      } else if (dice < 915) {
        ReleaseSnapshots(snapshots_.empty() ? 0 : snapshots_.size() - 1);
      } else if (dice < 950) {
        Both([&](rocksdb::DB* db) { return db->Flush(rocksdb::FlushOptions()); });
      } else if (dice < 965) {
        const size_t a = rng() % keys_.size(), e = std::min(keys_.size() - 1, a + rng() % 800);
        const rocksdb::Slice begin(keys_[a]), end(keys_[e]);
        const bool whole = rng() % 3 == 0;
        Both([&](rocksdb::DB* db) {
          return db->CompactRange(rocksdb::CompactRangeOptions(), whole ? nullptr : &begin,
                                  whole ? nullptr : &end);
        });
      } else if (dice < 971) {
        ReleaseSnapshots(0);
        bbt_->ReopenFromOptionsFile();
        learned_->ReopenFromOptionsFile();
      } else {
        Check(rng);
      }
      if (HasFatalFailure()) return;
    }
    Both([&](rocksdb::DB* db) { return db->Flush(rocksdb::FlushOptions()); });
    Check(rng);
    // Everything in tables, compacted to the last level, read back after a reopen.
    ReleaseSnapshots(0);
    Both([&](rocksdb::DB* db) {
      return db->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr);
    });
    bbt_->ReopenFromOptionsFile();
    learned_->ReopenFromOptionsFile();
    Check(rng);
  }

  std::vector<std::string> keys_;
  std::unique_ptr<rocksdb::Env> env_;
  std::unique_ptr<TestDb> bbt_, learned_;
  std::deque<std::pair<const rocksdb::Snapshot*, const rocksdb::Snapshot*>> snapshots_;
};

TEST_P(DifferentialTest, RandomOperations) { Run(301, 3000); }

TEST_P(DifferentialTest, RandomOperationsOtherSeed) { Run(7, 1500); }

// Tables holding only range tombstones (an empty learnkv table inside) flush, compact and read.
TEST_P(DifferentialTest, RangeTombstonesAlone) {
  rocksdb::WriteOptions wo;
  for (size_t i = 0; i < keys_.size(); i += 3) {
    Both([&](rocksdb::DB* db) { return db->Put(wo, keys_[i], "v" + std::to_string(i)); });
  }
  Both([&](rocksdb::DB* db) { return db->Flush(rocksdb::FlushOptions()); });
  for (size_t i = 0; i + 50 < keys_.size(); i += 400) {
    Both([&](rocksdb::DB* db) {
      return db->DeleteRange(wo, db->DefaultColumnFamily(), keys_[i], keys_[i + 50]);
    });
  }
  Both([&](rocksdb::DB* db) { return db->Flush(rocksdb::FlushOptions()); });
  std::mt19937_64 rng(3);
  Check(rng);
  bbt_->ReopenFromOptionsFile();
  learned_->ReopenFromOptionsFile();
  Check(rng);
  Both([&](rocksdb::DB* db) {
    return db->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr);
  });
  Check(rng);
}

INSTANTIATE_TEST_SUITE_P(
    LearnedTable, DifferentialTest,
    ::testing::Values(
        Param{"auto", "LearnedTable"},
        Param{"learned_fuse",
              "{id=LearnedTable;index_type=learned;filter_type=fuse;block_size=1024}"},
        Param{"block_bloom_nocache",
              "{id=LearnedTable;index_type=block;filter_type=bloom;block_cache_size=0}"},
        Param{"nofilter_tinycache",
              "{id=LearnedTable;filter_type=none;block_cache_size=16K;block_size=512}"}),
    [](const ::testing::TestParamInfo<Param>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace learnkv::rocksdb_test
