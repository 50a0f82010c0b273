// Learned filters in the engine: missed lookups sampled per level, handed with deeper keys to
// table builds as negatives, and per-level rates (Monkey).
//
//  * the same random operations on DBs whose tables get no filter, Bloom filters, kAuto and
//    kLearned filters give the same Get, MultiGet and iteration results, before and after
//    reopening (filters change speed, never results);
//  * the per-level samples stay within their bound and fill with missed lookups;
//  * with URL-like keys and missed lookups issued before a compaction, its output picks the
//    learned filter (its table properties say so); with random keys it stays classic;
//  * with Monkey, a small L0 table gets a lower target rate than the large level below.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "engine/db_impl.h"
#include "engine/filename.h"
#include "learned/filter_datasets.h"
#include "learnkv/db.h"
#include "learnkv/env.h"
#include "sstable/table_reader.h"
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

// One table as the DB lists it, with the properties its file holds.
struct TableInfo {
  int level = 0;
  uint64_t number = 0;
  TableProperties props;
};

// Every table of the DB (learnkv.sstables), its properties read from the file.
std::vector<TableInfo> ListTables(DB* db, Env* env, const std::string& dbname) {
  std::vector<TableInfo> tables;
  std::string listing;
  EXPECT_TRUE(db->GetProperty("learnkv.sstables", &listing));
  std::istringstream lines(listing);
  std::string line;
  while (std::getline(lines, line)) {
    TableInfo t;
    unsigned long long number = 0;
    if (std::sscanf(line.c_str(), "level %d #%llu", &t.level, &number) != 2) continue;
    t.number = number;
    const std::string fname = TableFileName(dbname, t.number);
    std::unique_ptr<RandomAccessFile> file;
    uint64_t size = 0;
    EXPECT_TRUE(env->NewRandomAccessFile(fname, &file).ok()) << fname;
    EXPECT_TRUE(env->GetFileSize(fname, &size).ok()) << fname;
    std::unique_ptr<TableReader> reader;
    const Status s = TableReader::Open(TableOptions(), fname, std::move(file), size, &reader);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (!s.ok()) continue;
    t.props = reader->properties();
    tables.push_back(std::move(t));
  }
  return tables;
}

// The numbers of a level's line in learnkv.filters: tables, then tables with no, Bloom, fuse
// and learned filters.
std::vector<uint64_t> LevelKinds(DB* db, int level) {
  std::string text;
  EXPECT_TRUE(db->GetProperty("learnkv.filters", &text));
  std::istringstream lines(text);
  std::string line;
  const std::string prefix = "L" + std::to_string(level) + " ";
  while (std::getline(lines, line)) {
    if (line.compare(0, prefix.size(), prefix) != 0) continue;
    std::istringstream fields(line.substr(prefix.size()));
    std::vector<uint64_t> counts(5);
    for (uint64_t& c : counts) fields >> c;
    return counts;
  }
  ADD_FAILURE() << "no line for L" << level << " in\n" << text;
  return {};
}

// The "kept/seen" column of a level's line in learnkv.filters.
void MissSample(DB* db, int level, uint64_t* kept, uint64_t* seen) {
  std::string text;
  ASSERT_TRUE(db->GetProperty("learnkv.filters", &text));
  std::istringstream lines(text);
  std::string line;
  const std::string prefix = "L" + std::to_string(level) + " ";
  while (std::getline(lines, line)) {
    if (line.compare(0, prefix.size(), prefix) != 0) continue;
    const size_t slash = line.rfind('/');
    ASSERT_NE(slash, std::string::npos) << line;
    const size_t space = line.rfind(' ', slash);
    *kept = std::stoull(line.substr(space + 1, slash - space - 1));
    *seen = std::stoull(line.substr(slash + 1));
    return;
  }
  FAIL() << "no line for L" << level << " in\n" << text;
}

class DBFilterTest : public testing::Test {
 protected:
  DBFilterTest() : env_(NewMemEnv(Env::Default())) {}

  Options BaseOptions() const {
    Options o;
    o.env = env_.get();
    o.create_if_missing = true;
    o.info_log = false;
    return o;
  }

  std::unique_ptr<Env> env_;
};

// ---- The same results whatever the filter

struct FilterConfig {
  const char* name;
  FilterType type;
};

const FilterConfig kFilterConfigs[] = {
    {"none", FilterType::kNone},
    {"bloom", FilterType::kBloom},
    {"auto", FilterType::kAuto},
    {"learned", FilterType::kLearned},
};

// Keys of two shapes, so that a model has something to tell apart: stored keys look like
// host names under ".example", and half of the keys looked up and never written are host
// names under ".invalid", spread over the same key range.
const char* const kWords[] = {"ads", "track", "pixel", "metric", "beacon", "stat"};
std::string HostKey(uint64_t i, const char* tld) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s%llu.%s.%s", kWords[i % 6],
                static_cast<unsigned long long>(i * 7919 % 100003), kWords[(i / 6) % 6], tld);
  return buf;
}
std::string StoredKey(uint64_t i) { return HostKey(i, "example"); }
std::string NeverWrittenKey(Random* rnd) {
  if (rnd->OneIn(2)) return StoredKey(100000 + rnd->Uniform(100000));  // a look-alike
  return HostKey(rnd->Uniform(100000), "invalid");
}

TEST_F(DBFilterTest, SameResultsWithEveryFilter) {
  constexpr size_t kN = sizeof(kFilterConfigs) / sizeof(kFilterConfigs[0]);
  std::vector<std::unique_ptr<DB>> dbs(kN);
  std::vector<Options> options(kN);
  for (size_t d = 0; d < kN; ++d) {
    Options& o = options[d];
    o = BaseOptions();
    o.write_buffer_size = 16 << 10;
    o.target_file_size_base = 256 << 10;
    o.max_bytes_for_level_base = 64 << 10;
    o.table_options.block_size = 512;
    o.table_options.filter.type = kFilterConfigs[d].type;
    o.table_options.filter.min_negatives = 50;
    o.filter_miss_sample_interval = 2;
    ASSERT_OK(DB::Open(o, std::string("/db-") + kFilterConfigs[d].name, &dbs[d]));
  }

  std::map<std::string, std::string> model;
  Random rnd(301);
  auto check_get = [&](const std::string& key) {
    auto m = model.find(key);
    for (size_t d = 0; d < kN; ++d) {
      std::string v;
      const Status s = dbs[d]->Get(ReadOptions(), key, &v);
      if (m == model.end()) {
        ASSERT_TRUE(s.IsNotFound()) << kFilterConfigs[d].name << " " << key << ": " << s.ToString();
      } else {
        ASSERT_TRUE(s.ok()) << kFilterConfigs[d].name << " " << key << ": " << s.ToString();
        ASSERT_EQ(m->second, v) << kFilterConfigs[d].name << " " << key;
      }
    }
  };
  auto check_multiget = [&](const std::vector<std::string>& keys) {
    std::vector<Slice> slices(keys.begin(), keys.end());
    for (size_t d = 0; d < kN; ++d) {
      std::vector<std::string> values;
      std::vector<Status> statuses;
      dbs[d]->MultiGet(ReadOptions(), slices, &values, &statuses);
      for (size_t i = 0; i < keys.size(); ++i) {
        auto m = model.find(keys[i]);
        if (m == model.end()) {
          ASSERT_TRUE(statuses[i].IsNotFound()) << kFilterConfigs[d].name << " " << keys[i];
        } else {
          ASSERT_TRUE(statuses[i].ok()) << kFilterConfigs[d].name << " " << keys[i];
          ASSERT_EQ(m->second, values[i]) << kFilterConfigs[d].name << " " << keys[i];
        }
      }
    }
  };
  auto check_scan = [&]() {
    for (size_t d = 0; d < kN; ++d) {
      std::unique_ptr<Iterator> it = dbs[d]->NewIterator(ReadOptions());
      auto m = model.begin();
      for (it->SeekToFirst(); it->Valid(); it->Next(), ++m) {
        ASSERT_TRUE(m != model.end())
            << kFilterConfigs[d].name << " extra " << it->key().ToString();
        ASSERT_EQ(m->first, it->key().ToString()) << kFilterConfigs[d].name;
        ASSERT_EQ(m->second, it->value().ToString()) << kFilterConfigs[d].name;
      }
      ASSERT_TRUE(it->status().ok()) << it->status().ToString();
      ASSERT_TRUE(m == model.end()) << kFilterConfigs[d].name << " missing " << m->first;
    }
  };

  for (int step = 0; step < 6000; ++step) {
    const uint32_t op = rnd.Uniform(100);
    if (op < 40) {
      const std::string key = StoredKey(rnd.Uniform(3000));
      const std::string value = "v" + std::to_string(step) + std::string(rnd.Uniform(60), 'x');
      model[key] = value;
      for (auto& db : dbs) ASSERT_OK(db->Put(WriteOptions(), key, value));
    } else if (op < 48) {
      const std::string key = StoredKey(rnd.Uniform(3000));
      model.erase(key);
      for (auto& db : dbs) ASSERT_OK(db->Delete(WriteOptions(), key));
    } else if (op < 75) {
      check_get(rnd.OneIn(3) ? StoredKey(rnd.Uniform(3000)) : NeverWrittenKey(&rnd));
    } else if (op < 90) {
      std::vector<std::string> keys;
      for (int i = 0; i < 12; ++i) {
        keys.push_back(rnd.OneIn(3) ? StoredKey(rnd.Uniform(3000)) : NeverWrittenKey(&rnd));
      }
      check_multiget(keys);
    } else if (op < 92) {
      check_scan();
    } else if (op < 93) {
      for (auto& db : dbs) ASSERT_OK(db->CompactRange(nullptr, nullptr));
    } else if (op < 94) {
      for (size_t d = 0; d < kN; ++d) {
        ASSERT_OK(dbs[d]->WaitForCompaction());
        dbs[d].reset();
        ASSERT_OK(DB::Open(options[d], std::string("/db-") + kFilterConfigs[d].name, &dbs[d]));
      }
    }
    if (testing::Test::HasFatalFailure()) return;
  }
  // Then missed lookups, new keys over the whole range and a compaction through every level,
  // so that the tables are rewritten with a good sample of misses: where allowed, some get
  // learned filters. The results must not change, also after reopening.
  for (int i = 0; i < 3000; ++i) check_get(NeverWrittenKey(&rnd));
  // (Tables of a few thousand keys: on smaller ones, where the classic filter takes a few
  // hundred bytes, the builder does not train n-gram models at all.)
  for (int i = 0; i < 8000; ++i) {
    const std::string key = StoredKey(i);
    model[key] = "late" + std::to_string(i);
    for (auto& db : dbs) ASSERT_OK(db->Put(WriteOptions(), key, model[key]));
  }
  for (auto& db : dbs) ASSERT_OK(db->CompactRange(nullptr, nullptr));
  for (int round = 0; round < 2; ++round) {
    for (auto& db : dbs) ASSERT_OK(db->WaitForCompaction());
    check_scan();
    for (int i = 0; i < 3000; i += 7) check_get(StoredKey(i));
    for (int i = 0; i < 2000; ++i) check_get(NeverWrittenKey(&rnd));
    std::vector<std::string> keys;
    for (int i = 0; i < 500; ++i) {
      keys.push_back(rnd.OneIn(2) ? StoredKey(rnd.Uniform(3000)) : NeverWrittenKey(&rnd));
    }
    check_multiget(keys);
    if (round == 0) {
      for (size_t d = 0; d < kN; ++d) {
        dbs[d].reset();
        ASSERT_OK(DB::Open(options[d], std::string("/db-") + kFilterConfigs[d].name, &dbs[d]));
      }
    }
  }

  // The filters were what each option asks for, and learned ones were built where allowed.
  for (size_t d = 0; d < kN; ++d) {
    std::string text;
    ASSERT_TRUE(dbs[d]->GetProperty("learnkv.filters", &text));
    const std::vector<TableInfo> tables =
        ListTables(dbs[d].get(), env_.get(), std::string("/db-") + kFilterConfigs[d].name);
    ASSERT_FALSE(tables.empty());
    size_t learned = 0;
    for (const TableInfo& t : tables) {
      const std::string& kind = t.props.filter_kind;
      switch (kFilterConfigs[d].type) {
        case FilterType::kNone:
          EXPECT_EQ("none", kind);
          break;
        case FilterType::kBloom:
          EXPECT_EQ("bloom", kind);
          break;
        default:
          EXPECT_NE("none", kind);
          break;
      }
      learned += kind == "learned";
    }
    if (kFilterConfigs[d].type == FilterType::kLearned) {
      EXPECT_GT(learned, 0u) << "no learned filter among " << tables.size() << " tables\n" << text;
    }
  }
}

// ---- The samples of missed lookups

TEST_F(DBFilterTest, MissSamplesAreBoundedAndFilledByMisses) {
  Options o = BaseOptions();
  o.filter_misses_per_level = 64;
  o.filter_miss_sample_interval = 1;  // every lookup
  o.disable_auto_compactions = true;
  std::unique_ptr<DB> db;
  ASSERT_OK(DB::Open(o, "/db", &db));
  for (int i = 0; i < 1000; i += 2) {
    char key[16];
    std::snprintf(key, sizeof(key), "k%06d", i);
    ASSERT_OK(db->Put(WriteOptions(), key, "v"));
  }
  ASSERT_OK(db->Flush(FlushOptions()));

  uint64_t kept = 0, seen = 0;
  MissSample(db.get(), 0, &kept, &seen);
  EXPECT_EQ(0u, kept);
  EXPECT_EQ(0u, seen);

  // Hits and keys outside every table's range are not misses of a table.
  std::string v;
  for (int i = 0; i < 1000; i += 2) {
    char key[16];
    std::snprintf(key, sizeof(key), "k%06d", i);
    ASSERT_OK(db->Get(ReadOptions(), key, &v));
  }
  EXPECT_TRUE(db->Get(ReadOptions(), "zzz", &v).IsNotFound());
  MissSample(db.get(), 0, &kept, &seen);
  EXPECT_EQ(0u, seen);

  // Absent keys inside the table's range are, 30 at first: all kept.
  for (int i = 1; i < 60; i += 2) {
    char key[16];
    std::snprintf(key, sizeof(key), "k%06d", i);
    EXPECT_TRUE(db->Get(ReadOptions(), key, &v).IsNotFound());
  }
  MissSample(db.get(), 0, &kept, &seen);
  EXPECT_EQ(30u, kept);
  EXPECT_EQ(30u, seen);

  // Then many more, by Get and MultiGet: the sample stays at its bound. (k000999 is past the
  // table's last key: no table is searched for it.)
  for (int i = 61; i < 999; i += 2) {
    char key[16];
    std::snprintf(key, sizeof(key), "k%06d", i);
    EXPECT_TRUE(db->Get(ReadOptions(), key, &v).IsNotFound());
  }
  std::vector<std::string> keys;
  for (int i = 1; i < 200; i += 2) {
    char key[16];
    std::snprintf(key, sizeof(key), "k%06d", i);
    keys.push_back(key);
  }
  std::vector<Slice> slices(keys.begin(), keys.end());
  std::vector<std::string> values;
  std::vector<Status> statuses;
  db->MultiGet(ReadOptions(), slices, &values, &statuses);
  for (const Status& s : statuses) EXPECT_TRUE(s.IsNotFound());
  MissSample(db.get(), 0, &kept, &seen);
  EXPECT_EQ(64u, kept);
  EXPECT_EQ(30u + 469u + 100u, seen);
  MissSample(db.get(), 1, &kept, &seen);
  EXPECT_EQ(0u, seen);

  // Without a filter type that learns, nothing is sampled.
  db.reset();
  o.table_options.filter.type = FilterType::kBloom;
  ASSERT_OK(DB::Open(o, "/db", &db));
  std::string text;
  ASSERT_TRUE(db->GetProperty("learnkv.filters", &text));
  EXPECT_NE(std::string::npos, text.find("Missed lookups: not sampled")) << text;
}

// ---- The learned filter where it pays, the classic one where it cannot

// Writes data.keys, flushes them to L0, looks up the training negatives (missing), and
// compacts everything into L1. Returns the L1 tables.
std::vector<TableInfo> CompactAfterMisses(const Options& o, const std::string& dbname,
                                          const FilterData& data) {
  std::unique_ptr<DB> db;
  EXPECT_TRUE(DB::Open(o, dbname, &db).ok());
  for (const std::string& k : data.keys) EXPECT_TRUE(db->Put(WriteOptions(), k, "value").ok());
  EXPECT_TRUE(db->Flush(FlushOptions()).ok());
  std::string v;
  for (const std::string& k : data.train_negatives) {
    EXPECT_TRUE(db->Get(ReadOptions(), k, &v).IsNotFound()) << k;
  }
  EXPECT_TRUE(db->CompactRange(nullptr, nullptr).ok());
  std::vector<TableInfo> tables = ListTables(db.get(), o.env, dbname);
  // The learned filter answers like the classic one: every stored key is found.
  for (size_t i = 0; i < data.keys.size(); i += 13) {
    EXPECT_TRUE(db->Get(ReadOptions(), data.keys[i], &v).ok()) << data.keys[i];
  }
  for (size_t i = 0; i < data.test_negatives.size(); i += 13) {
    EXPECT_TRUE(db->Get(ReadOptions(), data.test_negatives[i], &v).IsNotFound());
  }
  return tables;
}

TEST_F(DBFilterTest, CompactionOutputLearnsFromMissedLookups) {
  FilterDatasetOptions fo;
  fo.num_keys = 20000;
  fo.num_negatives = 20000;
  fo.separability = 1.0;
  fo.system_lists = false;
  const FilterData data = MakeFilterData(FilterDataset::kUrl, fo);

  Options o = BaseOptions();
  o.filter_misses_per_level = 20000;
  o.filter_miss_sample_interval = 1;
  o.disable_auto_compactions = true;
  const std::vector<TableInfo> tables = CompactAfterMisses(o, "/url", data);
  ASSERT_FALSE(tables.empty());
  for (const TableInfo& t : tables) {
    EXPECT_EQ(1, t.level);
    EXPECT_EQ("learned", t.props.filter_kind)
        << t.props.filter_reason << " (" << t.props.filter_negatives << " negatives)";
    EXPECT_GE(t.props.filter_negatives, 1000u);
    EXPECT_LT(t.props.filter_bytes, t.props.filter_classic_bytes);
  }

  // The same with a filter type that never learns: no negatives are even gathered.
  o.table_options.filter.type = FilterType::kFuse;
  for (const TableInfo& t : CompactAfterMisses(o, "/url-fuse", data)) {
    EXPECT_EQ("fuse", t.props.filter_kind);
    EXPECT_EQ(0u, t.props.filter_negatives);
  }
}

TEST_F(DBFilterTest, RandomKeysKeepTheClassicFilter) {
  FilterDatasetOptions fo;
  fo.num_keys = 20000;
  fo.num_negatives = 20000;
  fo.system_lists = false;
  const FilterData data = MakeFilterData(FilterDataset::kYcsb, fo);

  Options o = BaseOptions();
  o.filter_misses_per_level = 20000;
  o.filter_miss_sample_interval = 1;
  o.disable_auto_compactions = true;
  const std::vector<TableInfo> tables = CompactAfterMisses(o, "/ycsb", data);
  ASSERT_FALSE(tables.empty());
  for (const TableInfo& t : tables) {
    EXPECT_TRUE(t.props.filter_kind == "fuse" || t.props.filter_kind == "bloom")
        << t.props.filter_kind << ": " << t.props.filter_reason;
    EXPECT_GE(t.props.filter_negatives, 1000u);  // it tried, and learned nothing
  }
}

// Keys of the next deeper level are negatives too: a table flushed over a range that L1 holds
// densely learns from L1's keys without any missed lookup.
TEST_F(DBFilterTest, DeeperLevelKeysAreNegatives) {
  Options o = BaseOptions();
  o.disable_auto_compactions = true;
  o.filter_misses_per_level = 0;
  std::unique_ptr<DB> db;
  ASSERT_OK(DB::Open(o, "/deeper", &db));
  char key[32];
  for (int i = 0; i < 30000; ++i) {
    std::snprintf(key, sizeof(key), "deep%08d", i * 3);
    ASSERT_OK(db->Put(WriteOptions(), key, "d"));
  }
  ASSERT_OK(db->CompactRange(nullptr, nullptr));
  for (int i = 0; i < 3000; ++i) {
    std::snprintf(key, sizeof(key), "deep%08d", i * 30 + 1);
    ASSERT_OK(db->Put(WriteOptions(), key, "s"));
  }
  ASSERT_OK(db->Flush(FlushOptions()));
  bool found_l0 = false;
  for (const TableInfo& t : ListTables(db.get(), env_.get(), "/deeper")) {
    if (t.level != 0) continue;
    found_l0 = true;
    // As many deeper keys as the table has keys, at most.
    EXPECT_GE(t.props.filter_negatives, 1000u) << t.props.filter_reason;
    EXPECT_LE(t.props.filter_negatives, 3000u);
  }
  EXPECT_TRUE(found_l0);
}

// ---- Monkey

// Target rates of the tables at each level: {level -> rates}.
std::map<int, std::vector<double>> RatesByLevel(DB* db, Env* env, const std::string& dbname) {
  std::map<int, std::vector<double>> rates;
  for (const TableInfo& t : ListTables(db, env, dbname)) {
    rates[t.level].push_back(t.props.filter_target_fpr);
  }
  return rates;
}

TEST_F(DBFilterTest, MonkeyGivesSmallLevelsLowerRates) {
  for (bool monkey : {true, false}) {
    SCOPED_TRACE(monkey ? "monkey" : "uniform");
    Options o = BaseOptions();
    o.disable_auto_compactions = true;
    o.optimize_filters_for_levels = monkey;
    o.table_options.filter.type = FilterType::kBloom;
    o.table_options.filter.target_fpr = 0.01;
    const std::string dbname = monkey ? "/monkey" : "/uniform";
    std::unique_ptr<DB> db;
    ASSERT_OK(DB::Open(o, dbname, &db));
    char key[32];
    for (int i = 0; i < 40000; ++i) {
      std::snprintf(key, sizeof(key), "key%08d", i * 2);
      ASSERT_OK(db->Put(WriteOptions(), key, "v"));
    }
    ASSERT_OK(db->CompactRange(nullptr, nullptr));  // all of it in L1
    for (int i = 0; i < 2000; ++i) {
      std::snprintf(key, sizeof(key), "key%08d", i * 40 + 1);
      ASSERT_OK(db->Put(WriteOptions(), key, "v"));
    }
    ASSERT_OK(db->Flush(FlushOptions()));  // one small L0 table over it

    const std::map<int, std::vector<double>> rates = RatesByLevel(db.get(), env_.get(), dbname);
    ASSERT_EQ(1u, rates.count(0));
    ASSERT_EQ(1u, rates.count(1));
    const double l0 = rates.at(0)[0];
    const double l1 = *std::min_element(rates.at(1).begin(), rates.at(1).end());
    if (monkey) {
      // Alone in the tree, L1 got the uniform rate; then the small L0 table gets a lower one
      // (the bits it saves elsewhere pay for it).
      EXPECT_NEAR(0.01, l1, 1e-6);
      EXPECT_LT(l0, l1 / 2);
    } else {
      EXPECT_NEAR(0.01, l0, 1e-6);
      EXPECT_NEAR(0.01, l1, 1e-6);
    }
    std::string text;
    ASSERT_TRUE(db->GetProperty("learnkv.filters", &text));
    EXPECT_NE(std::string::npos, text.find("L1 ")) << text;
    EXPECT_EQ(monkey, text.find("Monkey") != std::string::npos) << text;
  }
}

TEST_F(DBFilterTest, FilterFieldsSurviveReopen) {
  Options o = BaseOptions();
  o.table_options.filter.type = FilterType::kBloom;
  std::unique_ptr<DB> db;
  ASSERT_OK(DB::Open(o, "/reopen", &db));
  for (int i = 0; i < 1000; ++i) ASSERT_OK(db->Put(WriteOptions(), std::to_string(i), "v"));
  ASSERT_OK(db->Flush(FlushOptions()));
  std::string before, after;
  ASSERT_TRUE(db->GetProperty("learnkv.filters", &before));
  db.reset();
  ASSERT_OK(DB::Open(o, "/reopen", &db));
  ASSERT_TRUE(db->GetProperty("learnkv.filters", &after));
  EXPECT_EQ(before.substr(0, before.find("Missed")), after.substr(0, after.find("Missed")));
  EXPECT_EQ((std::vector<uint64_t>{1, 0, 1, 0, 0}), LevelKinds(db.get(), 0)) << before;
  std::string sstables;
  ASSERT_TRUE(db->GetProperty("learnkv.sstables", &sstables));
  EXPECT_NE(std::string::npos, sstables.find(" filter bloom filter_bytes ")) << sstables;
}

}  // namespace
}  // namespace learnkv
