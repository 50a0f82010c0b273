// The simulated accelerator in the engine (engine/db_accel.h, docs/accelerator.md):
//  - Get and MultiGet answer exactly as without an accelerator, whatever the device decides
//    (offloaded batches take TableReader::PredictBounds' path; unsupported and slow devices
//    never offload);
//  - learnkv.accel-values counts one RMI batch per table a MultiGet reaches and one per Get,
//    a learned filter's classifier batches, and the model fits of flushes and compactions;
//  - nothing is offloaded below the break-even batch size, and large MultiGet batches are
//    where the device's cost model says it wins;
//  - with a gathering wait, concurrent Gets of one table form batches of several callers;
//  - the calibration is measured once per DB and reused on reopen.
// Device and CPU times come from a description file and a calibration written here, so the
// decisions are deterministic; no test asserts anything about time.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/filename.h"
#include "learned/filter_datasets.h"
#include "learnkv/db.h"
#include "learnkv/env.h"
#include "util/mem_env.h"
#include "util/random.h"

namespace learnkv {
namespace {

#define ASSERT_OK(expr)                    \
  do {                                     \
    const Status _s = (expr);              \
    ASSERT_TRUE(_s.ok()) << _s.ToString(); \
  } while (0)

// A CPU calibration written by hand: flat costs per item, so that the decisions depend only
// on the device's description.
constexpr char kCalibration[] =
    "version = 1\n"
    "origin = written by db_accel_test\n"
    "rmi = 1:20 65536:20\n"
    "ngram = 1:60 65536:60\n"
    "grid = 1:5 65536:5\n"
    "rmi_train = 1:30 1048576:30\n";

// An H200 without fixed costs: for an RMI batch of n keys it takes about 1.2 us (two
// dependent memory accesses) plus n * 16 bytes over the link, so it wins from a few hundred
// keys on (the CPU: 20 ns each).
constexpr char kFastDevice[] =
    "base = h200\n"
    "name = fast\n"
    "dispatch_ns = 0\n"
    "link_latency_ns = 0\n";

// An H200 whose every batch costs 100 ms to launch: the break-even is millions of keys.
constexpr char kSlowDevice[] =
    "base = h200\n"
    "name = slow\n"
    "dispatch_ns = 1e8\n";

std::string Key(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key%08llu", static_cast<unsigned long long>(i));
  return buf;
}

// The name=value lines of learnkv.accel-values.
std::map<std::string, std::string> Values(DB* db) {
  std::string text;
  EXPECT_TRUE(db->GetProperty("learnkv.accel-values", &text));
  std::map<std::string, std::string> values;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const size_t eq = line.find('=');
    EXPECT_NE(std::string::npos, eq) << line;
    EXPECT_GT(eq, 0u) << line;
    if (eq == std::string::npos) continue;
    EXPECT_EQ(0u, values.count(line.substr(0, eq))) << "repeated: " << line;
    values[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return values;
}

double Number(const std::map<std::string, std::string>& values, const std::string& name) {
  auto it = values.find(name);
  EXPECT_NE(values.end(), it) << name;
  if (it == values.end()) return -1;
  char* end = nullptr;
  const double v = std::strtod(it->second.c_str(), &end);
  EXPECT_TRUE(end != it->second.c_str() && *end == '\0') << name << "=" << it->second;
  return v;
}

// Every answer of a DB to a fixed list of lookups, in one string.
struct Answers {
  std::vector<std::string> lines;
  bool operator==(const Answers& o) const { return lines == o.lines; }
};

class DBAccelTest : public testing::Test {
 protected:
  DBAccelTest() : env_(NewMemEnv(Env::Default())) {
    EXPECT_TRUE(WriteStringToFile(env_.get(), kCalibration, "/calibration", false).ok());
    EXPECT_TRUE(WriteStringToFile(env_.get(), kFastDevice, "/fast.device", false).ok());
    EXPECT_TRUE(WriteStringToFile(env_.get(), kSlowDevice, "/slow.device", false).ok());
  }

  Options BaseOptions() const {
    Options o;
    o.env = env_.get();
    o.create_if_missing = true;
    o.info_log = false;
    o.table_options.index_type = IndexType::kLearned;
    o.write_buffer_size = 64 << 10;
    o.target_file_size_base = 128 << 10;
    return o;
  }

  Options AccelOptions(const std::string& device) const {
    Options o = BaseOptions();
    o.accelerator = device;
    o.accel_calibration_file = "/calibration";
    return o;
  }

  // Writes keys 0, 2, 4, ... < 2n in several flushes (L0 tables, then deeper levels), with
  // overwrites and deletions, and leaves some in the memtable.
  void Fill(const std::string& dbname, uint64_t n) {
    std::unique_ptr<DB> db;
    ASSERT_OK(DB::Open(BaseOptions(), dbname, &db));
    for (uint64_t i = 0; i < n; ++i) {
      ASSERT_OK(db->Put(WriteOptions(), Key(2 * i), "v" + std::to_string(i)));
      if (i % 3000 == 2999) ASSERT_OK(db->Flush(FlushOptions()));
    }
    ASSERT_OK(db->CompactRange(nullptr, nullptr));
    for (uint64_t i = 0; i < n; i += 7) {
      ASSERT_OK(db->Put(WriteOptions(), Key(2 * i), "new" + std::to_string(i)));
    }
    for (uint64_t i = 0; i < n; i += 11) ASSERT_OK(db->Delete(WriteOptions(), Key(2 * i)));
    ASSERT_OK(db->Flush(FlushOptions()));
    for (uint64_t i = 1; i < n; i += 13) {
      ASSERT_OK(db->Put(WriteOptions(), Key(2 * i), "mem" + std::to_string(i)));
    }
    ASSERT_OK(db->WaitForCompaction());
  }

  // Gets of every key in [0, 2n) step 3, and MultiGets of 1, 7, 1000 and 5000 keys, present
  // and absent, unsorted.
  Answers Lookups(DB* db, uint64_t n) {
    Answers a;
    std::string v;
    for (uint64_t i = 0; i < 2 * n; i += 3) {
      const Status s = db->Get(ReadOptions(), Key(i), &v);
      a.lines.push_back(Key(i) + " " + (s.ok() ? v : s.ToString()));
    }
    Random rnd(301);
    for (size_t size : {1, 7, 1000, 5000}) {
      std::vector<std::string> keys;
      for (size_t j = 0; j < size; ++j) keys.push_back(Key(rnd.Uniform(2 * n + 10)));
      std::vector<Slice> slices(keys.begin(), keys.end());
      std::vector<std::string> values;
      std::vector<Status> statuses;
      db->MultiGet(ReadOptions(), slices, &values, &statuses);
      for (size_t j = 0; j < size; ++j) {
        a.lines.push_back("multi " + keys[j] + " " +
                          (statuses[j].ok() ? values[j] : statuses[j].ToString()));
      }
    }
    return a;
  }

  std::unique_ptr<Env> env_;
};

TEST_F(DBAccelTest, SameAnswersWithEveryDevice) {
  constexpr uint64_t kN = 20000;
  Fill("/db", kN);
  Answers expected;
  {
    std::unique_ptr<DB> db;
    ASSERT_OK(DB::Open(BaseOptions(), "/db", &db));
    expected = Lookups(db.get(), kN);
    std::string text;
    ASSERT_TRUE(db->GetProperty("learnkv.accel", &text));
    EXPECT_EQ(0u, text.find("accelerator: off")) << text;
    ASSERT_TRUE(db->GetProperty("learnkv.accel-values", &text));
    EXPECT_EQ("accelerator=off\n", text);
  }
  for (const char* device : {"/fast.device", "/slow.device", "h200", "tpu-v2", "tpu-v1"}) {
    SCOPED_TRACE(device);
    std::unique_ptr<DB> db;
    ASSERT_OK(DB::Open(AccelOptions(device), "/db", &db));
    const Answers got = Lookups(db.get(), kN);
    ASSERT_EQ(expected.lines.size(), got.lines.size());
    for (size_t i = 0; i < got.lines.size(); ++i) {
      ASSERT_EQ(expected.lines[i], got.lines[i]) << "lookup " << i;
    }
    const auto values = Values(db.get());
    EXPECT_GT(Number(values, "rmi_batches"), 0);
    const double offloaded = Number(values, "rmi_offloaded_items");
    if (std::string(device) == "/fast.device") {
      EXPECT_GT(offloaded, 0) << "the 1000- and 5000-key MultiGets should go to the device";
    } else if (std::string(device) != "h200") {
      // Slow: never pays; the TPUs have no fp64, which the RMI's bounds need.
      EXPECT_EQ(0, offloaded);
    }
  }
}

TEST_F(DBAccelTest, CountsBatchesPerTableAndGet) {
  Options o = AccelOptions("/slow.device");
  o.write_buffer_size = 64 << 20;  // one flush, one compaction output
  o.target_file_size_base = 64 << 20;
  std::unique_ptr<DB> db;
  ASSERT_OK(DB::Open(o, "/db", &db));
  for (uint64_t i = 0; i < 5000; ++i) ASSERT_OK(db->Put(WriteOptions(), Key(i), "v"));
  ASSERT_OK(db->CompactRange(nullptr, nullptr));  // one table at the deepest level, none in L0
  std::string listing;
  ASSERT_TRUE(db->GetProperty("learnkv.sstables", &listing));
  ASSERT_EQ(1, std::count(listing.begin(), listing.end(), '\n')) << listing;
  ASSERT_NE(std::string::npos, listing.find("index rmi")) << listing;

  const auto before = Values(db.get());
  const double batches0 = Number(before, "rmi_batches");
  const double items0 = Number(before, "rmi_items");
  // One MultiGet of 100 keys the table holds: one batch of 100.
  std::vector<std::string> keys;
  for (uint64_t i = 0; i < 100; ++i) keys.push_back(Key(i * 37));
  std::vector<Slice> slices(keys.begin(), keys.end());
  std::vector<std::string> values;
  std::vector<Status> statuses;
  db->MultiGet(ReadOptions(), slices, &values, &statuses);
  for (const Status& s : statuses) ASSERT_OK(s);
  // Ten Gets: ten batches of one.
  std::string v;
  for (uint64_t i = 0; i < 10; ++i) ASSERT_OK(db->Get(ReadOptions(), Key(i * 101), &v));

  const auto after = Values(db.get());
  EXPECT_EQ(batches0 + 11, Number(after, "rmi_batches"));
  EXPECT_EQ(items0 + 110, Number(after, "rmi_items"));
  EXPECT_EQ(0, Number(after, "rmi_offloaded_items"));
  EXPECT_EQ(0, Number(after, "offloaded_fraction"));
  EXPECT_GE(Number(after, "rmi_largest_batch"), 100);
  // 100 ms per launch against 20 ns per key: millions of keys before the device pays.
  EXPECT_GT(Number(after, "rmi_break_even"), 1e6);
  EXPECT_EQ("slow", after.at("accelerator"));
  EXPECT_EQ(0, Number(after, "device_calibrated"));
  EXPECT_EQ(0, Number(after, "gathered_batches"));
  EXPECT_EQ(0, Number(after, "device_busy_simulated_ms"));
  EXPECT_GT(Number(after, "cpu_predicted_ms"), 0);
  EXPECT_GT(Number(after, "device_simulated_ms"), 0);
  // The flush and the compaction each fitted a model; with 100 ms per launch neither pays.
  EXPECT_GE(Number(after, "training_fits"), 2);
  EXPECT_EQ(0, Number(after, "training_offload_pays"));

  std::string text;
  ASSERT_TRUE(db->GetProperty("learnkv.accel", &text));
  EXPECT_EQ(0u, text.find("accelerator: slow")) << text;
  for (const char* part : {"simulated", "predicted", "measured", "rmi ", "break_even",
                           "read-path latency", "model fits in flushes and compactions",
                           "calibration (written by db_accel_test; loaded from /calibration)"}) {
    EXPECT_NE(std::string::npos, text.find(part)) << part << "\n" << text;
  }
}

TEST_F(DBAccelTest, OffloadsOnlyAboveTheBreakEven) {
  std::unique_ptr<DB> db;
  ASSERT_OK(DB::Open(AccelOptions("/fast.device"), "/db", &db));
  for (uint64_t i = 0; i < 20000; ++i) ASSERT_OK(db->Put(WriteOptions(), Key(i), "v"));
  ASSERT_OK(db->CompactRange(nullptr, nullptr));
  auto multiget = [&](uint64_t first, uint64_t n) {
    std::vector<std::string> keys;
    for (uint64_t i = 0; i < n; ++i) keys.push_back(Key(first + i));
    std::vector<Slice> slices(keys.begin(), keys.end());
    std::vector<std::string> values;
    std::vector<Status> statuses;
    db->MultiGet(ReadOptions(), slices, &values, &statuses);
    for (const Status& s : statuses) EXPECT_TRUE(s.ok()) << s.ToString();
  };
  // Small batches (each table's share of 8 consecutive keys is at most 8): never offloaded.
  for (uint64_t i = 0; i < 50; ++i) multiget(i * 300, 8);
  std::string v;
  for (uint64_t i = 0; i < 50; ++i) ASSERT_OK(db->Get(ReadOptions(), Key(i * 7), &v));
  auto values = Values(db.get());
  const double break_even = Number(values, "rmi_break_even");
  EXPECT_GT(break_even, 8);
  EXPECT_LT(break_even, 1000);
  EXPECT_EQ(0, Number(values, "offloaded_fraction"));
  EXPECT_EQ(0, Number(values, "rmi_offloaded_items"));

  // 2000 consecutive keys: the tables they span get batches beyond the break-even, and the
  // device's queue is empty after a pause of a few microseconds at most.
  multiget(5000, 2000);
  values = Values(db.get());
  EXPECT_GT(Number(values, "rmi_offloaded_items"), 0);
  EXPECT_GT(Number(values, "offloaded_fraction"), 0);
  EXPECT_GT(Number(values, "device_busy_simulated_ms"), 0);
  EXPECT_GE(Number(values, "weight_uploads"), 1);
  // Fitting a model over thousands of keys: 30 ns a key on the CPU, far less on this device.
  EXPECT_GT(Number(values, "training_offload_pays"), 0);
}

TEST_F(DBAccelTest, GathersConcurrentGets) {
  constexpr int kThreads = 4;
  Options o = AccelOptions("/slow.device");
  o.accel_max_wait_micros = 20000;  // long enough for the other threads to join on any machine
  std::unique_ptr<DB> db;
  ASSERT_OK(DB::Open(o, "/db", &db));
  for (uint64_t i = 0; i < 2000; ++i) ASSERT_OK(db->Put(WriteOptions(), Key(i), "v" + Key(i)));
  ASSERT_OK(db->CompactRange(nullptr, nullptr));

  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string v;
      for (uint64_t i = 0; i < 20; ++i) {
        const uint64_t k = (i * kThreads + t) * 13 % 2000;
        if (!db->Get(ReadOptions(), Key(k), &v).ok() || v != "v" + Key(k)) ++errors;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(0, errors.load());
  const auto values = Values(db.get());
  EXPECT_GT(Number(values, "gathered_batches"), 0);
  EXPECT_GT(Number(values, "gathered_callers"), Number(values, "gathered_batches"));
  EXPECT_GT(Number(values, "gather_wait_measured_ms"), 0);
  EXPECT_LT(Number(values, "rmi_batches"), Number(values, "rmi_items"));
  EXPECT_EQ(20000, Number(values, "queue_max_wait_us"));
}

TEST_F(DBAccelTest, LearnedFilterScoresAreBatches) {
  FilterDatasetOptions fo;
  fo.num_keys = 20000;
  fo.num_negatives = 20000;
  fo.separability = 1.0;
  fo.system_lists = false;
  const FilterData data = MakeFilterData(FilterDataset::kUrl, fo);
  Options o = AccelOptions("/fast.device");
  o.table_options.index_type = IndexType::kAuto;
  o.write_buffer_size = 64 << 20;
  o.target_file_size_base = 64 << 20;
  o.filter_misses_per_level = 20000;
  o.filter_miss_sample_interval = 1;
  o.disable_auto_compactions = true;
  std::unique_ptr<DB> db;
  ASSERT_OK(DB::Open(o, "/url", &db));
  for (const std::string& k : data.keys) ASSERT_OK(db->Put(WriteOptions(), k, "value"));
  ASSERT_OK(db->Flush(FlushOptions()));
  std::string v;
  for (const std::string& k : data.train_negatives) {
    ASSERT_TRUE(db->Get(ReadOptions(), k, &v).IsNotFound()) << k;
  }
  ASSERT_OK(db->CompactRange(nullptr, nullptr));
  std::string listing;
  ASSERT_TRUE(db->GetProperty("learnkv.sstables", &listing));
  ASSERT_NE(std::string::npos, listing.find("filter learned")) << listing;

  const auto before = Values(db.get());
  const double scored0 = Number(before, "ngram_items") + Number(before, "grid_items");
  std::vector<std::string> keys;
  for (size_t i = 0; i < 3000; ++i) {
    keys.push_back(i % 2 == 0 ? data.keys[i * 5] : data.test_negatives[i]);
  }
  std::vector<Slice> slices(keys.begin(), keys.end());
  std::vector<std::string> values;
  std::vector<Status> statuses;
  db->MultiGet(ReadOptions(), slices, &values, &statuses);
  for (size_t i = 0; i < keys.size(); i += 2) ASSERT_OK(statuses[i]);
  for (size_t i = 1; i < keys.size(); i += 2) ASSERT_TRUE(statuses[i].IsNotFound()) << keys[i];

  const auto after = Values(db.get());
  const double scored = Number(after, "ngram_items") + Number(after, "grid_items");
  // Each key reaches the one L1 table covering it; a learned filter scores it there.
  EXPECT_GE(scored - scored0, 1000)
      << "ngram/grid items before " << scored0 << ", after " << scored;
  EXPECT_LE(scored - scored0, 3000);
}

TEST_F(DBAccelTest, CalibratesOnceAndReusesIt) {
  Options o = BaseOptions();
  o.accelerator = "h200";  // calibration in the DB directory, measured at the first Open
  std::unique_ptr<DB> db;
  ASSERT_OK(DB::Open(o, "/db", &db));
  const std::string path = AccelCalibrationFileName("/db");
  std::string first;
  ASSERT_OK(ReadFileToString(env_.get(), path, &first));
  EXPECT_NE(std::string::npos, first.find("rmi = ")) << first;
  EXPECT_NE(std::string::npos, first.find("rmi_train = ")) << first;
  ASSERT_OK(db->Close());
  db.reset();

  ASSERT_OK(DB::Open(o, "/db", &db));
  std::string second;
  ASSERT_OK(ReadFileToString(env_.get(), path, &second));
  EXPECT_EQ(first, second);
  std::string text;
  ASSERT_TRUE(db->GetProperty("learnkv.accel", &text));
  EXPECT_NE(std::string::npos, text.find("loaded from " + path)) << text;
  db.reset();

  // A damaged calibration in the DB directory is measured again; one named explicitly fails.
  ASSERT_OK(WriteStringToFile(env_.get(), "version = 9\n", path, false));
  ASSERT_OK(DB::Open(o, "/db", &db));
  ASSERT_OK(ReadFileToString(env_.get(), path, &second));
  EXPECT_NE(std::string::npos, second.find("rmi = ")) << second;
  db.reset();
  ASSERT_OK(WriteStringToFile(env_.get(), "version = 9\n", "/bad-calibration", false));
  o.accel_calibration_file = "/bad-calibration";
  EXPECT_FALSE(DB::Open(o, "/db", &db).ok());
  o.accel_calibration_file.clear();
  o.accelerator = "no-such-device";
  const Status s = DB::Open(o, "/db", &db);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();

  // The calibration belongs to the DB: DestroyDB removes it.
  ASSERT_OK(DestroyDB("/db", o));
  EXPECT_FALSE(env_->FileExists(path));
}

}  // namespace
}  // namespace learnkv
