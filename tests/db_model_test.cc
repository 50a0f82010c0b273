// Model-based DB test: random puts, deletes, batches, reads, iteration, snapshots, flushes,
// compactions and reopens, each checked against a std::map holding what the DB should contain.
// Parameterized over option sets (tiny memtables and files so flushes and compactions happen
// all the time; learned, block and automatic indexes; compression; in-memory and real disk)
// and over seeds, which also pick the shape of the keys. Written against the public API only.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "learnkv/db.h"
#include "learnkv/env.h"
#include "learnkv/iterator.h"
#include "learnkv/options.h"
#include "learnkv/write_batch.h"
#include "sstable/block_cache.h"
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
#define EXPECT_OK(expr)                    \
  do {                                     \
    const Status _s = (expr);              \
    EXPECT_TRUE(_s.ok()) << _s.ToString(); \
  } while (0)

using Model = std::map<std::string, std::string>;

// Hex for failure messages: keys may hold any byte.
std::string Hex(const Slice& s) { return s.ToHex(); }

// ---- Option sets

struct Config {
  const char* name;
  bool mem_env;
  IndexType index;
  CompressionType compression;
  size_t write_buffer_size;
  uint64_t target_file_size;
  size_t block_size;
  bool block_cache;
  // Write stalls early, one background job, few open tables (table cache evictions).
  bool tight = false;
};

const Config kConfigs[] = {
    {"MemAutoLz4", true, IndexType::kAuto, CompressionType::kLz4, 32 << 10, 64 << 10, 4096, false},
    {"MemLearnedNone", true, IndexType::kLearned, CompressionType::kNone, 32 << 10, 32 << 10, 512,
     true},
    {"MemBlockZstd", true, IndexType::kBlock, CompressionType::kZstd, 32 << 10, 64 << 10, 1024,
     false},
    {"MemLearnedZstdCached", true, IndexType::kLearned, CompressionType::kZstd, 64 << 10, 128 << 10,
     2048, true},
    {"MemAutoTight", true, IndexType::kAuto, CompressionType::kLz4, 16 << 10, 32 << 10, 1024, true,
     true},
    {"DiskAutoZstd", false, IndexType::kAuto, CompressionType::kZstd, 32 << 10, 64 << 10, 1024,
     true},
    {"DiskLearnedNone", false, IndexType::kLearned, CompressionType::kNone, 32 << 10, 48 << 10,
     4096, false},
};

void PrintTo(const Config& config, std::ostream* os) { *os << config.name; }

// ---- Key shapes

enum class KeyShape { kMixed, kShortRandom, kBigEndianInt, kLongPrefix };
constexpr int kNumShapes = 4;

const char* ShapeName(KeyShape shape) {
  switch (shape) {
    case KeyShape::kMixed:
      return "Mixed";
    case KeyShape::kShortRandom:
      return "ShortRandom";
    case KeyShape::kBigEndianInt:
      return "BigEndianInt";
    case KeyShape::kLongPrefix:
      return "LongPrefix";
  }
  return "?";
}

// The i-th key of a shape: a deterministic function of (shape, i), so the tests can draw keys
// from a fixed pool (giving overwrites and deletes of live keys) or from outside it.
std::string MakeKey(KeyShape shape, uint64_t i) {
  if (shape == KeyShape::kMixed) shape = static_cast<KeyShape>(1 + i % 3);
  switch (shape) {
    case KeyShape::kShortRandom: {
      Random r(i * 0x9e3779b97f4a7c15ull + 17);
      std::string k(1 + r.Uniform(12), '\0');
      for (char& c : k) c = static_cast<char>(r.Uniform(256));  // \0 and \xff included
      return k;
    }
    case KeyShape::kBigEndianInt: {
      const uint64_t v = i * 1000003ull + (i % 7) * (uint64_t{1} << 40);
      std::string k(8, '\0');
      for (int b = 0; b < 8; ++b) k[b] = static_cast<char>(v >> (56 - 8 * b));
      return k;
    }
    case KeyShape::kLongPrefix:
    case KeyShape::kMixed: {
      std::string k = "tenant/0042/collection/shared-prefix-that-is-rather-long/item/";
      k += std::to_string(i * 37 % 100003);
      if (i % 5 == 0) k += "/sub";
      return k;
    }
  }
  return {};
}

// ---- Checks of the DB against a model

// Every key and value of a full forward scan, then of a full backward scan.
void CheckScan(DB* db, const ReadOptions& ro, const Model& model) {
  std::unique_ptr<Iterator> it = db->NewIterator(ro);
  auto m = model.begin();
  size_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++m, ++n) {
    ASSERT_TRUE(m != model.end()) << "extra key " << Hex(it->key()) << " after " << n;
    ASSERT_EQ(Hex(m->first), Hex(it->key())) << "forward entry " << n;
    ASSERT_EQ(m->second, it->value().ToString()) << "key " << Hex(m->first);
  }
  ASSERT_OK(it->status());
  ASSERT_TRUE(m == model.end()) << "missing key " << Hex(m->first) << " at " << n;

  auto r = model.rbegin();
  n = 0;
  for (it->SeekToLast(); it->Valid(); it->Prev(), ++r, ++n) {
    ASSERT_TRUE(r != model.rend()) << "extra key " << Hex(it->key()) << " backward";
    ASSERT_EQ(Hex(r->first), Hex(it->key())) << "backward entry " << n;
    ASSERT_EQ(r->second, it->value().ToString()) << "key " << Hex(r->first);
  }
  ASSERT_OK(it->status());
  ASSERT_TRUE(r == model.rend()) << "missing key backward " << Hex(r->first);
}

// Positions the iterator and a model cursor the same way, then walks both with random
// Next/Prev steps, comparing at every step. (A model cursor at end() means !Valid().)
void CheckRandomWalk(DB* db, const ReadOptions& ro, const Model& model, Random* rnd,
                     const std::vector<std::string>& probes) {
  std::unique_ptr<Iterator> it = db->NewIterator(ro);
  for (int start = 0; start < 4; ++start) {
    Model::const_iterator m;
    const std::string target = probes[rnd->Uniform(probes.size())];
    std::string how;
    switch (rnd->Uniform(4)) {
      case 0:
        it->SeekToFirst();
        m = model.begin();
        how = "SeekToFirst";
        break;
      case 1:
        it->SeekToLast();
        m = model.empty() ? model.end() : std::prev(model.end());
        how = "SeekToLast";
        break;
      case 2:
        it->Seek(target);
        m = model.lower_bound(target);
        how = "Seek(" + Hex(target) + ")";
        break;
      default: {
        it->SeekForPrev(target);
        m = model.upper_bound(target);
        m = m == model.begin() ? model.end() : std::prev(m);
        how = "SeekForPrev(" + Hex(target) + ")";
        break;
      }
    }
    for (int step = 0; step < 24; ++step) {
      ASSERT_OK(it->status());
      ASSERT_EQ(m != model.end(), it->Valid()) << how << " then " << step << " steps";
      if (!it->Valid()) break;
      ASSERT_EQ(Hex(m->first), Hex(it->key())) << how << " then " << step << " steps";
      ASSERT_EQ(m->second, it->value().ToString()) << how << " then " << step << " steps";
      if (rnd->OneIn(3)) {
        it->Prev();
        m = m == model.begin() ? model.end() : std::prev(m);
        how += " Prev";
      } else {
        it->Next();
        ++m;
        how += " Next";
      }
    }
  }
}

void CheckGets(DB* db, const ReadOptions& ro, const Model& model,
               const std::vector<std::string>& keys) {
  for (const std::string& k : keys) {
    std::string value;
    const Status s = db->Get(ro, k, &value);
    auto m = model.find(k);
    if (m == model.end()) {
      ASSERT_TRUE(s.IsNotFound()) << "Get(" << Hex(k) << ") = " << s.ToString() << " " << value;
    } else {
      ASSERT_OK(s);
      ASSERT_EQ(m->second, value) << "Get(" << Hex(k) << ")";
    }
  }
  std::vector<Slice> slices(keys.begin(), keys.end());
  std::vector<std::string> values;
  std::vector<Status> statuses;
  db->MultiGet(ro, slices, &values, &statuses);
  ASSERT_EQ(keys.size(), values.size());
  ASSERT_EQ(keys.size(), statuses.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    auto m = model.find(keys[i]);
    if (m == model.end()) {
      ASSERT_TRUE(statuses[i].IsNotFound())
          << "MultiGet " << Hex(keys[i]) << " " << statuses[i].ToString();
    } else {
      ASSERT_OK(statuses[i]);
      ASSERT_EQ(m->second, values[i]) << "MultiGet " << Hex(keys[i]);
    }
  }
}

// The index kind a learnkv.sstables line names ("... index rmi ..." or "... index block (why)
// ..."), and the text after it; "" for a line that describes no table (a header).
std::string IndexKind(const std::string& line, std::string* rest) {
  const size_t at = line.find(" index ");
  if (at == std::string::npos) return "";
  const size_t begin = at + 7;
  const size_t end = line.find(' ', begin);
  *rest = end == std::string::npos ? "" : line.substr(end + 1);
  return line.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

// Parses the table-count properties: the per-level counts must sum to the number of tables
// that learnkv.sstables lists, and every listed table must name its index ("rmi", or "block"
// with the reason in parentheses). Counts the learned tables in *rmi_tables.
// only_block: every table was built with IndexType::kBlock.
void CheckProperties(DB* db, const Options& options, bool only_block,
                     uint64_t* num_tables = nullptr, uint64_t* rmi_tables = nullptr) {
  // Each property reads the version current at its call: compare them on a settled tree, not
  // across a background compaction installing a new version in between.
  ASSERT_TRUE(db->WaitForCompaction().ok());
  uint64_t total = 0;
  for (int level = 0; level < options.num_levels; ++level) {
    std::string v;
    ASSERT_TRUE(db->GetProperty("learnkv.num-files-at-level" + std::to_string(level), &v)) << level;
    size_t used = 0;
    const uint64_t n = std::stoull(v, &used);
    ASSERT_EQ(v.size(), used) << "num-files-at-level" << level << " = '" << v << "'";
    total += n;
  }
  std::string v;
  EXPECT_FALSE(db->GetProperty("learnkv.no-such-property", &v));

  std::string sstables;
  ASSERT_TRUE(db->GetProperty("learnkv.sstables", &sstables));
  std::istringstream lines(sstables);
  std::string line;
  uint64_t listed = 0, rmi = 0;
  while (std::getline(lines, line)) {
    std::string rest;
    const std::string kind = IndexKind(line, &rest);
    if (kind.empty()) continue;
    ++listed;
    ASSERT_TRUE(kind == "rmi" || kind == "block") << "unknown index kind: " << line;
    if (kind == "rmi") {
      ++rmi;
      EXPECT_FALSE(only_block) << "kBlock built a learned index: " << line;
    } else {
      EXPECT_TRUE(rest.size() > 2 && rest[0] == '(' && rest.find(')') != std::string::npos)
          << "block index without a reason: " << line;
    }
  }
  ASSERT_EQ(total, listed) << sstables;
  if (num_tables != nullptr) *num_tables = total;
  if (rmi_tables != nullptr) *rmi_tables = rmi;

  ASSERT_TRUE(db->GetProperty("learnkv.estimate-num-keys", &v));
  EXPECT_NO_THROW((void)std::stoull(v)) << v;
  ASSERT_TRUE(db->GetProperty("learnkv.stats", &v));
  EXPECT_FALSE(v.empty());
  ASSERT_TRUE(db->GetProperty("learnkv.index-memory", &v));
  EXPECT_NO_THROW((void)std::stoull(v)) << v;
}

// ---- The harness

struct Snap {
  const Snapshot* snapshot;
  Model model;
};

class DBModelTest : public testing::TestWithParam<std::tuple<Config, int>> {
 protected:
  void SetUp() override {
    config_ = std::get<0>(GetParam());
    seed_ = std::get<1>(GetParam());
    // LEARNKV_MODEL_TEST_SEED shifts every seed, for longer soak runs with new sequences.
    if (const char* extra = std::getenv("LEARNKV_MODEL_TEST_SEED")) seed_ += std::atoi(extra) * 4;
    shape_ = static_cast<KeyShape>(seed_ % kNumShapes);
    if (config_.mem_env) {
      mem_env_.reset(NewMemEnv(Env::Default()));
      options_.env = mem_env_.get();
      dbname_ = "/db";
    } else {
      dbname_ = test::NewTempDir(std::string("db_model_") + config_.name);
    }
    options_.create_if_missing = true;
    options_.write_buffer_size = config_.write_buffer_size;
    options_.target_file_size_base = config_.target_file_size;
    options_.max_bytes_for_level_base = 4 * config_.target_file_size;
    options_.table_options.index_type = config_.index;
    options_.table_options.compression = config_.compression;
    options_.table_options.block_size = config_.block_size;
    if (config_.block_cache) options_.table_options.block_cache = NewBlockCache(1 << 20);
    if (config_.tight) {
      options_.level0_file_num_compaction_trigger = 2;
      options_.level0_slowdown_writes_trigger = 3;
      options_.level0_stop_writes_trigger = 5;
      options_.max_write_buffer_number = 3;
      options_.max_background_jobs = 1;
      options_.max_open_files = 20;
    }
    only_block_ = config_.index == IndexType::kBlock;
    ASSERT_OK(DB::Open(options_, dbname_, &db_));
  }

  void TearDown() override {
    ReleaseSnapshots();
    if (db_ != nullptr) {
      EXPECT_OK(db_->Close());
      db_.reset();
    }
    if (!HasFailure() || config_.mem_env) {  // a failing disk DB stays for inspection
      EXPECT_TRUE(DestroyDB(dbname_, options_).ok());
    }
  }

  void ReleaseSnapshots() {
    for (Snap& s : snaps_) db_->ReleaseSnapshot(s.snapshot);
    snaps_.clear();
  }

  // Closes and opens the DB, sometimes with another index kind and compression for the
  // tables built from then on: tables of every kind then live side by side.
  void Reopen(Random* rnd = nullptr) {
    ReleaseSnapshots();  // snapshots do not outlive the DB
    ASSERT_OK(db_->Close());
    db_.reset();
    if (rnd != nullptr && rnd->OneIn(3)) {
      options_.table_options.index_type = static_cast<IndexType>(rnd->Uniform(3));
      options_.table_options.compression = static_cast<CompressionType>(rnd->Uniform(3));
    }
    only_block_ &= options_.table_options.index_type == IndexType::kBlock;
    ASSERT_OK(DB::Open(options_, dbname_, &db_));
  }

  std::string RandomKey(Random* rnd) {
    if (rnd->OneIn(20)) return MakeKey(shape_, 1000000 + rnd->Uniform(1000000));  // fresh
    if (rnd->OneIn(400)) return "";  // the smallest key is a key too
    std::string k = MakeKey(shape_, rnd->Uniform(kPoolSize));
    if (rnd->OneIn(60)) k.push_back('\0');  // right after another key, sharing all of it
    return k;
  }

  std::string RandomValue(Random* rnd, uint64_t op) {
    std::string v = "v" + std::to_string(op) + ":";
    const uint32_t len = rnd->OneIn(50) ? 2000 + rnd->Uniform(6000) : rnd->Skewed(8);
    for (uint32_t i = 0; i < len; ++i) v.push_back(static_cast<char>('a' + rnd->Uniform(26)));
    if (rnd->OneIn(30)) v.clear();  // empty values are values, not deletions
    return v;
  }

  // Keys for reads: live ones, absent ones, and ones beyond either end.
  std::vector<std::string> ProbeKeys(Random* rnd, int n) {
    std::vector<std::string> keys;
    for (int i = 0; i < n; ++i) {
      const uint32_t kind = rnd->Uniform(10);
      if (kind < 5 && !model_.empty()) {
        auto it = model_.lower_bound(RandomKey(rnd));
        if (it == model_.end()) it = model_.begin();
        keys.push_back(it->first);
      } else if (kind == 5) {
        keys.push_back("");
      } else if (kind == 6) {
        keys.push_back(std::string(20, '\xff'));
      } else {
        std::string k = RandomKey(rnd);
        if (rnd->OneIn(2)) k.push_back('\0');  // just after a pool key
        keys.push_back(k);
      }
    }
    return keys;
  }

  void CheckLatest(Random* rnd) {
    ReadOptions ro;
    ASSERT_NO_FATAL_FAILURE(CheckGets(db_.get(), ro, model_, ProbeKeys(rnd, 16)));
    ASSERT_NO_FATAL_FAILURE(CheckRandomWalk(db_.get(), ro, model_, rnd, ProbeKeys(rnd, 8)));
  }

  void CheckSnapshots(Random* rnd, bool full) {
    for (const Snap& s : snaps_) {
      ReadOptions ro;
      ro.snapshot = s.snapshot;
      ASSERT_NO_FATAL_FAILURE(CheckGets(db_.get(), ro, s.model, ProbeKeys(rnd, 8)));
      ASSERT_NO_FATAL_FAILURE(CheckRandomWalk(db_.get(), ro, s.model, rnd, ProbeKeys(rnd, 4)));
      if (full) {
        ASSERT_NO_FATAL_FAILURE(CheckScan(db_.get(), ro, s.model));
      }
    }
  }

  void CheckAll(Random* rnd) {
    ASSERT_NO_FATAL_FAILURE(CheckScan(db_.get(), ReadOptions(), model_));
    ASSERT_NO_FATAL_FAILURE(CheckSnapshots(rnd, true));
    uint64_t tables = 0;
    ASSERT_NO_FATAL_FAILURE(CheckProperties(db_.get(), options_, only_block_, &tables));
    // Approximate sizes: something where there are tables, and a range holds its subranges.
    const std::string lo = RandomKey(rnd), hi = RandomKey(rnd);
    const std::string all_end(40, '\xff');
    Range ranges[3] = {{"", all_end}, {std::min(lo, hi), std::max(lo, hi)}, {"", ""}};
    uint64_t sizes[3] = {1, 1, 1};
    db_->GetApproximateSizes(ranges, 3, sizes);
    EXPECT_EQ(tables > 0, sizes[0] > 0) << sizes[0] << " bytes in " << tables << " tables";
    EXPECT_LE(sizes[1], sizes[0]);
    EXPECT_EQ(0u, sizes[2]) << "an empty range has a size";
  }

  static constexpr uint32_t kPoolSize = 1500;
  static constexpr int kOps = 2500;

  Config config_;
  int seed_ = 0;
  KeyShape shape_ = KeyShape::kMixed;
  std::unique_ptr<Env> mem_env_;
  Options options_;
  std::string dbname_;
  std::unique_ptr<DB> db_;
  Model model_;
  std::vector<Snap> snaps_;
  bool only_block_ = true;  // every table so far built with IndexType::kBlock
};

TEST_P(DBModelTest, RandomOperations) {
  Random rnd(1000 + seed_ * 7919);
  WriteOptions wo;
  int flushes = 0, compactions = 0, reopens = 0;
  for (int op = 0; op < kOps; ++op) {
    SCOPED_TRACE("op " + std::to_string(op));
    const uint32_t p = rnd.Uniform(1000);
    if (p < 400) {  // put
      const std::string k = RandomKey(&rnd);
      const std::string v = RandomValue(&rnd, op);
      ASSERT_OK(db_->Put(wo, k, v));
      model_[k] = v;
    } else if (p < 520) {  // delete, mostly of live keys
      std::string k = RandomKey(&rnd);
      if (!model_.empty() && rnd.OneIn(2)) {
        auto it = model_.lower_bound(k);
        if (it != model_.end()) k = it->first;
      }
      ASSERT_OK(db_->Delete(wo, k));
      model_.erase(k);
    } else if (p < 640) {  // batch: puts and deletes, the same key possibly several times
      WriteBatch batch;
      Model after = model_;
      const int n = 1 + rnd.Uniform(20);
      for (int i = 0; i < n; ++i) {
        const std::string k = RandomKey(&rnd);
        if (rnd.OneIn(3)) {
          ASSERT_OK(batch.Delete(k));
          after.erase(k);
        } else {
          const std::string v = RandomValue(&rnd, op);
          ASSERT_OK(batch.Put(k, v));
          after[k] = v;
        }
      }
      ASSERT_EQ(static_cast<uint32_t>(n), batch.Count());
      ASSERT_OK(db_->Write(wo, &batch));
      model_ = std::move(after);
    } else if (p < 800) {
      ASSERT_NO_FATAL_FAILURE(CheckLatest(&rnd));
    } else if (p < 840) {
      ASSERT_NO_FATAL_FAILURE(CheckSnapshots(&rnd, false));
    } else if (p < 870) {  // take a snapshot, dropping the oldest beyond four
      if (snaps_.size() >= 4) {
        const size_t victim = rnd.Uniform(snaps_.size());
        db_->ReleaseSnapshot(snaps_[victim].snapshot);
        snaps_.erase(snaps_.begin() + victim);
      }
      snaps_.push_back({db_->GetSnapshot(), model_});
    } else if (p < 900) {
      ASSERT_OK(db_->Flush(FlushOptions()));
      ++flushes;
    } else if (p < 915) {  // compact a random range, or everything
      if (rnd.OneIn(3)) {
        ASSERT_OK(db_->CompactRange(nullptr, nullptr));
      } else {
        std::string a = RandomKey(&rnd), b = RandomKey(&rnd);
        if (b < a) std::swap(a, b);
        const Slice begin(a), end(b);
        ASSERT_OK(db_->CompactRange(rnd.OneIn(4) ? nullptr : &begin, &end));
      }
      ++compactions;
    } else if (p < 925) {
      ASSERT_NO_FATAL_FAILURE(Reopen(&rnd));
      ++reopens;
      ASSERT_NO_FATAL_FAILURE(CheckLatest(&rnd));
    } else if (p < 930) {
      ASSERT_NO_FATAL_FAILURE(CheckAll(&rnd));
    } else {  // overwrite a live key (the most common update in practice)
      if (model_.empty()) continue;
      auto it = model_.lower_bound(RandomKey(&rnd));
      if (it == model_.end()) it = model_.begin();
      const std::string v = RandomValue(&rnd, op);
      ASSERT_OK(db_->Put(wo, it->first, v));
      it->second = v;
    }
  }
  ASSERT_NO_FATAL_FAILURE(CheckAll(&rnd));
  ASSERT_OK(db_->WaitForCompaction());
  ASSERT_NO_FATAL_FAILURE(CheckAll(&rnd));
  std::string l0_files;
  ASSERT_TRUE(db_->GetProperty("learnkv.num-files-at-level0", &l0_files));
  EXPECT_LT(std::stoi(l0_files), options_.level0_file_num_compaction_trigger)
      << "WaitForCompaction returned with a level-0 compaction due";

  // Everything survives a reopen and a full compaction, which leaves no table at level 0.
  ASSERT_NO_FATAL_FAILURE(Reopen());
  ASSERT_NO_FATAL_FAILURE(CheckAll(&rnd));
  ASSERT_OK(db_->CompactRange(nullptr, nullptr));
  ASSERT_NO_FATAL_FAILURE(CheckAll(&rnd));
  std::string l0;
  ASSERT_TRUE(db_->GetProperty("learnkv.num-files-at-level0", &l0));
  EXPECT_EQ("0", l0);
  uint64_t tables = 0, rmi_tables = 0;
  ASSERT_NO_FATAL_FAILURE(CheckProperties(db_.get(), options_, only_block_, &tables, &rmi_tables));
  EXPECT_EQ(model_.empty(), tables == 0) << tables << " tables for " << model_.size() << " keys";
  if (options_.table_options.index_type == IndexType::kLearned && model_.size() > 500) {
    std::string sstables;
    db_->GetProperty("learnkv.sstables", &sstables);
    EXPECT_GT(rmi_tables, 0u) << "kLearned built no learned index:\n" << sstables;
  }
  RecordProperty("rmi_tables", rmi_tables);
  RecordProperty("tables", tables);
  RecordProperty("flushes", flushes);
  RecordProperty("compactions", compactions);
  RecordProperty("reopens", reopens);
}

std::string TestName(const testing::TestParamInfo<std::tuple<Config, int>>& info) {
  const int seed = std::get<1>(info.param);
  return std::string(std::get<0>(info.param).name) + "_" +
         ShapeName(static_cast<KeyShape>(seed % kNumShapes)) + "_" + std::to_string(seed);
}

INSTANTIATE_TEST_SUITE_P(Configs, DBModelTest,
                         testing::Combine(testing::ValuesIn(kConfigs), testing::Range(0, 4)),
                         TestName);

// ---- Deterministic cases the random test reaches only by luck

class DBModelBasicTest : public testing::Test {
 protected:
  DBModelBasicTest() : env_(NewMemEnv(Env::Default())) {
    options_.env = env_.get();
    options_.create_if_missing = true;
    options_.write_buffer_size = 32 << 10;
  }
  void SetUp() override { ASSERT_OK(DB::Open(options_, "/db", &db_)); }
  void TearDown() override {
    if (db_ != nullptr) EXPECT_OK(db_->Close());
    db_.reset();
    EXPECT_OK(DestroyDB("/db", options_));
  }

  std::unique_ptr<Env> env_;
  Options options_;
  std::unique_ptr<DB> db_;
};

TEST_F(DBModelBasicTest, EmptyDB) {
  std::string v;
  EXPECT_TRUE(db_->Get(ReadOptions(), "a", &v).IsNotFound());
  EXPECT_TRUE(db_->Get(ReadOptions(), "", &v).IsNotFound());
  std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  it->SeekToLast();
  EXPECT_FALSE(it->Valid());
  it->Seek("a");
  EXPECT_FALSE(it->Valid());
  it->SeekForPrev("a");
  EXPECT_FALSE(it->Valid());
  ASSERT_OK(it->status());
  it.reset();
  ASSERT_OK(db_->Flush(FlushOptions()));
  ASSERT_OK(db_->CompactRange(nullptr, nullptr));
  ASSERT_NO_FATAL_FAILURE(CheckProperties(db_.get(), options_, false));
}

TEST_F(DBModelBasicTest, DeleteHidesOlderValuesInEveryLevel) {
  ASSERT_OK(db_->Put(WriteOptions(), "k", "old"));
  ASSERT_OK(db_->CompactRange(nullptr, nullptr));  // "old" deep in the tree
  ASSERT_OK(db_->Put(WriteOptions(), "k", "mid"));
  ASSERT_OK(db_->Flush(FlushOptions()));  // "mid" at level 0
  const Snapshot* snap = db_->GetSnapshot();
  ASSERT_OK(db_->Delete(WriteOptions(), "k"));  // the tombstone in the memtable
  std::string v;
  EXPECT_TRUE(db_->Get(ReadOptions(), "k", &v).IsNotFound()) << v;
  ReadOptions at_snap;
  at_snap.snapshot = snap;
  ASSERT_OK(db_->Get(at_snap, "k", &v));
  EXPECT_EQ("mid", v);
  ASSERT_OK(db_->Flush(FlushOptions()));
  ASSERT_OK(db_->CompactRange(nullptr, nullptr));
  EXPECT_TRUE(db_->Get(ReadOptions(), "k", &v).IsNotFound()) << v;
  ASSERT_OK(db_->Get(at_snap, "k", &v));  // the snapshot kept "mid" through compaction
  EXPECT_EQ("mid", v);
  db_->ReleaseSnapshot(snap);
  ASSERT_OK(db_->CompactRange(nullptr, nullptr));
  EXPECT_TRUE(db_->Get(ReadOptions(), "k", &v).IsNotFound()) << v;
  std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
}

TEST_F(DBModelBasicTest, IteratorIsASnapshot) {
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK(db_->Put(WriteOptions(), "key" + std::to_string(1000 + i), "a"));
  }
  std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK(db_->Put(WriteOptions(), "key" + std::to_string(1000 + i), "b"));
    ASSERT_OK(db_->Delete(WriteOptions(), "key" + std::to_string(1000 + i + 1)));
  }
  ASSERT_OK(db_->Flush(FlushOptions()));
  ASSERT_OK(db_->CompactRange(nullptr, nullptr));
  int n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++n) {
    ASSERT_EQ("key" + std::to_string(1000 + n), it->key().ToString());
    ASSERT_EQ("a", it->value().ToString());
  }
  ASSERT_OK(it->status());
  EXPECT_EQ(100, n);
}

TEST_F(DBModelBasicTest, LargeValuesAndKeys) {
  const std::string big_key(5000, 'k');
  const std::string big_value(1 << 20, 'v');
  ASSERT_OK(db_->Put(WriteOptions(), big_key, big_value));
  ASSERT_OK(db_->Put(WriteOptions(), "small", ""));
  for (int round = 0; round < 3; ++round) {
    std::string v;
    ASSERT_OK(db_->Get(ReadOptions(), big_key, &v));
    EXPECT_EQ(big_value, v);
    ASSERT_OK(db_->Get(ReadOptions(), "small", &v));
    EXPECT_EQ("", v);
    if (round == 0) ASSERT_OK(db_->Flush(FlushOptions()));
    if (round == 1) ASSERT_OK(db_->CompactRange(nullptr, nullptr));
  }
}

TEST_F(DBModelBasicTest, BatchLargerThanTheWriteBuffer) {
  WriteBatch batch;
  for (int i = 0; i < 2000; ++i) {
    batch.Put("batch" + std::to_string(10000 + i),
              std::string(100, static_cast<char>('a' + i % 26)));
  }
  batch.Delete("batch10005");
  ASSERT_GT(batch.ApproximateSize(), 4 * options_.write_buffer_size);
  ASSERT_OK(db_->Write(WriteOptions(), &batch));
  for (int round = 0; round < 2; ++round) {
    std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
    int n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    ASSERT_OK(it->status());
    EXPECT_EQ(1999, n);
    it.reset();
    ASSERT_OK(db_->Close());
    db_.reset();
    ASSERT_OK(DB::Open(options_, "/db", &db_));  // replayed from the WAL
  }
}

TEST_F(DBModelBasicTest, WritesWithoutWalSurviveOnceFlushed) {
  WriteOptions no_wal;
  no_wal.disable_wal = true;
  ASSERT_OK(db_->Put(no_wal, "a", "1"));
  ASSERT_OK(db_->Put(WriteOptions(), "b", "2"));
  std::string v;
  ASSERT_OK(db_->Get(ReadOptions(), "a", &v));
  EXPECT_EQ("1", v);
  ASSERT_OK(db_->Flush(FlushOptions()));
  ASSERT_OK(db_->Close());
  db_.reset();
  ASSERT_OK(DB::Open(options_, "/db", &db_));
  ASSERT_OK(db_->Get(ReadOptions(), "a", &v));
  EXPECT_EQ("1", v);
  ASSERT_OK(db_->Get(ReadOptions(), "b", &v));
  EXPECT_EQ("2", v);
}

TEST_F(DBModelBasicTest, CloseIsFinal) {
  ASSERT_OK(db_->Put(WriteOptions(), "a", "1"));
  ASSERT_OK(db_->Close());
  EXPECT_FALSE(db_->Put(WriteOptions(), "b", "2").ok());
  std::string v;
  EXPECT_FALSE(db_->Get(ReadOptions(), "a", &v).ok());
  db_.reset();
  ASSERT_OK(DB::Open(options_, "/db", &db_));  // the LOCK was released
  ASSERT_OK(db_->Get(ReadOptions(), "a", &v));
  EXPECT_EQ("1", v);
  EXPECT_TRUE(db_->Get(ReadOptions(), "b", &v).IsNotFound());
}

}  // namespace
}  // namespace learnkv
