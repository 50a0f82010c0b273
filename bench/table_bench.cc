// table_bench: one table, three indexes. For each data set and size it builds the same
// entries (16-byte user keys, 100-byte values, no compression) as
//
//   learned   a learnkv table with index_type kLearned (RMI + block locator),
//   block     the same learnkv table with index_type kBlock (one separator per data block),
//   rocksdb   RocksDB's block-based table (rocksdb::SstFileWriter, read by SstFileReader),
//
// and measures
//
//   Build/<set>/<size>/<kind>   time to write the table (manual time: first Put/Add to Finish);
//                               counters build_ms_per_Mkeys and, for learned,
//                               training_ms_per_Mkeys (fitting the RMI, inside the build).
//                               learnkv's builder writes to a sink that only counts bytes, so
//                               this is the builder's own cost; RocksDB's writes to its MemEnv.
//   BuildFile/<set>/<size>/<kind>  the same learnkv build as a real one: lz4 compression, written
//                               to a file under $TMPDIR (default /tmp), closed but not synced;
//                               the training share of a realistic build.
//   Lookup/<set>/<size>/<kind>  one point lookup of a random present key per iteration, so the
//                               time per iteration is ns/lookup; counter index_bytes_per_key.
//
// Every table lives in memory (learnkv's util/mem_env.h, RocksDB's NewMemEnv), so no run
// touches the disk or the page cache; each has a block cache twice its size, warmed by a full
// scan before timing. learnkv lookups call TableReader::Get; RocksDB's go through one reused
// iterator's Seek, as its SstFileReader offers no Get. Only one table is held at a time.
//
// Choosing what runs (flags, or the environment variables in brackets):
//   --sizes=1M,10M         [LEARNKV_BENCH_SIZES]     default 1M
//   --datasets=a,b | all   [LEARNKV_BENCH_DATASETS]  default: all data sets that fit 16 bytes
// Keys of integer sets are the 8-byte big-endian integer plus a fixed 8-byte suffix; string
// sets (ycsb, random_binary) are cut or zero-padded to 16 bytes, which keeps their order, and
// then deduplicated (ycsb loses about 50 of 10M). url and long_prefix are not run: 16 bytes of
// them are mostly the shared prefix, which would benchmark a different data set.
//
// Thread safety: single-threaded, as Google Benchmark runs it.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "learnkv/env.h"
#include "sstable/block_cache.h"
#include "sstable/internal_key.h"
#include "sstable/table_builder.h"
#include "sstable/table_reader.h"
#include "util/coding.h"
#include "util/datasets.h"
#include "util/mem_env.h"

#ifdef LEARNKV_HAVE_ROCKSDB
#include <rocksdb/cache.h>
#include <rocksdb/env.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/table.h>
#include <rocksdb/table_properties.h>
#endif

namespace learnkv {
namespace {

constexpr size_t kKeySize = 16;
constexpr size_t kValueSize = 100;
constexpr size_t kLookupKeys = size_t{1} << 20;  // random present keys, cycled through
constexpr char kIntegerSuffix[] = "-learnkv";    // 8 bytes after each integer key

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

enum class Kind { kLearned, kBlock, kRocksDB };
const char* KindName(Kind k) {
  return k == Kind::kLearned ? "learned" : (k == Kind::kBlock ? "block" : "rocksdb");
}

// ---- Keys ----

// n' <= n sorted unique 16-byte keys, flat, plus the positions of the lookups.
struct KeySet {
  Dataset dataset;
  size_t n = 0;  // as asked; keys() may be a few fewer after deduplication
  std::string flat;
  std::vector<uint32_t> lookups;

  size_t size() const { return flat.size() / kKeySize; }
  Slice key(size_t i) const { return Slice(flat.data() + i * kKeySize, kKeySize); }
};

std::unique_ptr<KeySet> MakeKeySet(Dataset d, size_t n) {
  auto ks = std::make_unique<KeySet>();
  ks->dataset = d;
  ks->n = n;
  {
    const std::vector<std::string> keys = GenerateSortedKeys(d, n, /*seed=*/20240611);
    ks->flat.reserve(n * kKeySize);
    std::string k;
    for (const std::string& src : keys) {
      k = src;
      if (IsIntegerDataset(d)) {
        k.append(kIntegerSuffix, 8);
      } else {
        k.resize(kKeySize, '\0');  // cut or pad: a < b still gives k(a) <= k(b)
      }
      const size_t m = ks->size();
      if (m > 0 && ks->key(m - 1) == Slice(k)) continue;  // collided after cutting
      ks->flat.append(k);
    }
  }
  std::mt19937_64 rng(7);
  ks->lookups.resize(kLookupKeys);
  for (uint32_t& p : ks->lookups) p = static_cast<uint32_t>(rng() % ks->size());
  return ks;
}

// Keys are generated once per (data set, size): Build and Lookup of all kinds share them.
const KeySet& Keys(Dataset d, size_t n) {
  static std::unique_ptr<KeySet> current;
  if (current == nullptr || current->dataset != d || current->n != n) {
    current.reset();
    current = MakeKeySet(d, n);
  }
  return *current;
}

// A 100-byte value that names its entry.
void FillValue(size_t i, char* value) {
  memset(value, 'v', kValueSize);
  EncodeFixed64(value, i);
}

// ---- learnkv ----

// Counts the bytes of a table and drops them: the Build benchmarks time the builder itself,
// not the growth of an in-memory file (which copies the file each time it doubles).
class DiscardFile final : public WritableFile {
 public:
  Status Append(const Slice& data) override {
    size_ += data.size();
    return Status::OK();
  }
  Status Flush() override { return Status::OK(); }
  Status Sync() override { return Status::OK(); }
  Status Close() override { return Status::OK(); }
  uint64_t Size() const override { return size_; }

 private:
  uint64_t size_ = 0;
};

struct LearnkvBuild {
  TableProperties props;
  uint64_t file_size = 0;
  double seconds = 0;  // first Add to the end of Finish
};

Status BuildLearnkv(const KeySet& ks, IndexType index_type, WritableFile* file, LearnkvBuild* b,
                    CompressionType compression = CompressionType::kNone) {
  TableOptions options;
  options.index_type = index_type;
  options.compression = compression;
  // The index is what is compared: no filter block (its build and probe would add the same
  // cost to both indexes; filters have their own benchmarks).
  options.filter.type = FilterType::kNone;
  char ikey[kKeySize + 8], value[kValueSize];
  const uint64_t trailer = PackSequenceAndType(1, kTypeValue);
  const auto start = Clock::now();
  TableBuilder builder(options, file);
  for (size_t i = 0; i < ks.size(); ++i) {
    memcpy(ikey, ks.key(i).data(), kKeySize);
    EncodeFixed64(ikey + kKeySize, trailer);
    FillValue(i, value);
    builder.Add(Slice(ikey, sizeof(ikey)), Slice(value, kValueSize));
  }
  Status s = builder.Finish();
  b->seconds = SecondsSince(start);
  if (s.ok()) s = file->Close();
  b->file_size = builder.FileSize();
  b->props = builder.properties();
  return s;
}

// ---- RocksDB ----

#ifdef LEARNKV_HAVE_ROCKSDB
struct RocksBuild {
  std::unique_ptr<rocksdb::Env> env;
  rocksdb::Options options;
  std::string name = "/bench/000001.sst";
  double seconds = 0;
};

rocksdb::Status BuildRocks(const KeySet& ks, size_t cache_bytes, RocksBuild* b) {
  b->env.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
  b->options.env = b->env.get();
  b->options.compression = rocksdb::kNoCompression;
  rocksdb::BlockBasedTableOptions table;
  table.block_size = 4096;  // learnkv's default too
  table.block_cache = rocksdb::NewLRUCache(cache_bytes);
  b->options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  char value[kValueSize];
  const auto start = Clock::now();
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), b->options);
  rocksdb::Status s = writer.Open(b->name);
  for (size_t i = 0; s.ok() && i < ks.size(); ++i) {
    FillValue(i, value);
    s = writer.Put(rocksdb::Slice(ks.key(i).data(), kKeySize), rocksdb::Slice(value, kValueSize));
  }
  if (s.ok()) s = writer.Finish();
  b->seconds = SecondsSince(start);
  return s;
}
#endif

// ---- Tables under lookup ----

class LookupTable {
 public:
  virtual ~LookupTable() = default;
  // Looks up ks.lookups[i]; true if found.
  virtual bool Lookup(size_t i) = 0;
  virtual double IndexBytesPerKey() const = 0;
  virtual void AddCounters(benchmark::State& state) const {}
};

class LearnkvTable final : public LookupTable {
 public:
  static Status Open(const KeySet& ks, IndexType index_type, std::unique_ptr<LookupTable>* out) {
    auto t = std::unique_ptr<LearnkvTable>(new LearnkvTable);
    t->env_.reset(NewMemEnv(Env::Default()));
    const std::string name = "bench.sst";
    std::unique_ptr<WritableFile> file;
    Status s = t->env_->NewWritableFile(name, &file);
    if (s.ok()) s = BuildLearnkv(ks, index_type, file.get(), &t->build_);
    TableOptions options;
    options.block_cache = NewBlockCache(2 * t->build_.file_size);
    std::unique_ptr<RandomAccessFile> source;
    if (s.ok()) s = t->env_->NewRandomAccessFile(name, &source);
    if (s.ok()) {
      s = TableReader::Open(options, name, std::move(source), t->build_.file_size, &t->reader_);
    }
    if (!s.ok()) return s;
    std::unique_ptr<Iterator> it = t->reader_->NewIterator();
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
    }
    if (!it->status().ok()) return it->status();
    // Lookup targets as the engine passes them: user key + the largest trailer.
    t->lookup_keys_.reserve(ks.lookups.size() * (kKeySize + 8));
    for (uint32_t p : ks.lookups) {
      t->lookup_keys_.append(LookupKey(ks.key(p), kMaxSequenceNumber).internal_key().ToString());
    }
    *out = std::move(t);
    return Status::OK();
  }

  bool Lookup(size_t i) override {
    bool found = false;
    const Slice key(lookup_keys_.data() + i * (kKeySize + 8), kKeySize + 8);
    reader_->Get(key, [&found](const Slice&, const Slice&) {
      found = true;
      return false;
    });
    return found;
  }

  double IndexBytesPerKey() const override {
    return static_cast<double>(build_.props.index_bytes) /
           static_cast<double>(build_.props.num_entries);
  }

  void AddCounters(benchmark::State& state) const override {
    const TableProperties& p = build_.props;
    if (p.index_type != IndexType::kLearned) return;
    state.counters["rmi_leaves"] = static_cast<double>(p.rmi_leaf_count);
    state.counters["rmi_mean_error"] = p.rmi_mean_error;
    state.counters["rmi_max_error"] = static_cast<double>(p.rmi_max_error);
    state.counters["rmi_mean_window"] = p.rmi_mean_window;
  }

 private:
  LearnkvTable() = default;
  std::unique_ptr<Env> env_;  // holds the file: destroyed after reader_
  LearnkvBuild build_;
  std::unique_ptr<TableReader> reader_;
  std::string lookup_keys_;
};

#ifdef LEARNKV_HAVE_ROCKSDB
class RocksTable final : public LookupTable {
 public:
  static Status Open(const KeySet& ks, std::unique_ptr<LookupTable>* out) {
    auto t = std::unique_ptr<RocksTable>(new RocksTable);
    // Twice the data, as for learnkv: every block stays cached.
    const size_t cache_bytes = 2 * ks.size() * (kKeySize + 8 + kValueSize + 16);
    rocksdb::Status s = BuildRocks(ks, cache_bytes, &t->build_);
    if (s.ok()) {
      t->reader_ = std::make_unique<rocksdb::SstFileReader>(t->build_.options);
      s = t->reader_->Open(t->build_.name);
    }
    if (s.ok()) {
      t->iter_.reset(t->reader_->NewIterator(rocksdb::ReadOptions()));
      for (t->iter_->SeekToFirst(); t->iter_->Valid(); t->iter_->Next()) {
      }
      s = t->iter_->status();
    }
    if (!s.ok()) return Status::IOError("rocksdb", s.ToString());
    const auto props = t->reader_->GetTableProperties();
    t->index_bytes_per_key_ =
        static_cast<double>(props->index_size) / static_cast<double>(props->num_entries);
    t->keys_ = &ks;
    *out = std::move(t);
    return Status::OK();
  }

  bool Lookup(size_t i) override {
    const Slice k = keys_->key(keys_->lookups[i]);
    const rocksdb::Slice key(k.data(), k.size());
    iter_->Seek(key);
    return iter_->Valid() && iter_->key() == key;
  }

  double IndexBytesPerKey() const override { return index_bytes_per_key_; }

 private:
  RocksTable() = default;
  // Destroyed in reverse: iterator, reader, then the Env holding the file.
  RocksBuild build_;
  std::unique_ptr<rocksdb::SstFileReader> reader_;
  std::unique_ptr<rocksdb::Iterator> iter_;
  const KeySet* keys_ = nullptr;
  double index_bytes_per_key_ = 0;
};
#endif

// The table the Lookup benchmarks use: one at a time (a 10M-entry table with its cache is
// about 2.5 GB), built when a benchmark asks for another.
LookupTable* CurrentTable(Kind kind, const KeySet& ks, Status* s) {
  static std::unique_ptr<LookupTable> table;
  static std::string id;
  const std::string want =
      std::string(KindName(kind)) + "/" + DatasetName(ks.dataset) + "/" + std::to_string(ks.n);
  if (table != nullptr && id == want) return table.get();
  table.reset();
  id = want;
  if (kind == Kind::kRocksDB) {
#ifdef LEARNKV_HAVE_ROCKSDB
    *s = RocksTable::Open(ks, &table);
#endif
  } else {
    *s = LearnkvTable::Open(ks, kind == Kind::kLearned ? IndexType::kLearned : IndexType::kBlock,
                            &table);
  }
  if (!s->ok()) {
    id.clear();
    table.reset();
  }
  return table.get();
}

// ---- Benchmarks ----

void BM_Build(benchmark::State& state, Kind kind, Dataset d, size_t n) {
  const KeySet& ks = Keys(d, n);
  const double mkeys = static_cast<double>(ks.size()) / 1e6;
  double training_seconds = 0, index_bytes = 0;
  for (auto _ : state) {
    double seconds = 0;
    if (kind == Kind::kRocksDB) {
#ifdef LEARNKV_HAVE_ROCKSDB
      RocksBuild b;
      rocksdb::Status s = BuildRocks(ks, 8 << 20, &b);
      if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
      seconds = b.seconds;
#endif
    } else {
      LearnkvBuild b;
      DiscardFile file;
      Status s = BuildLearnkv(ks, kind == Kind::kLearned ? IndexType::kLearned : IndexType::kBlock,
                              &file, &b);
      if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
      seconds = b.seconds;
      training_seconds = b.props.training_micros / 1e6;
      index_bytes = static_cast<double>(b.props.index_bytes);
    }
    state.SetIterationTime(seconds);
    state.counters["build_ms_per_Mkeys"] = seconds * 1e3 / mkeys;
  }
  if (kind == Kind::kLearned)
    state.counters["training_ms_per_Mkeys"] = training_seconds * 1e3 / mkeys;
  if (kind != Kind::kRocksDB) {
    state.counters["index_bytes_per_key"] = index_bytes / static_cast<double>(ks.size());
  }
  state.counters["keys"] = static_cast<double>(ks.size());
}

// The same build as a real one: lz4 compression, written to a file on disk (closed, not synced),
// so that the training share is measured against a realistic build too.
void BM_BuildFile(benchmark::State& state, Kind kind, Dataset d, size_t n) {
  const KeySet& ks = Keys(d, n);
  const double mkeys = static_cast<double>(ks.size()) / 1e6;
  const char* dir = getenv("TMPDIR");
  const std::string name = std::string(dir != nullptr ? dir : "/tmp") + "/learnkv_table_bench.sst";
  Env* env = Env::Default();
  double training_seconds = 0;
  for (auto _ : state) {
    std::unique_ptr<WritableFile> file;
    Status s = env->NewWritableFile(name, &file);
    LearnkvBuild b;
    if (s.ok()) {
      s = BuildLearnkv(ks, kind == Kind::kLearned ? IndexType::kLearned : IndexType::kBlock,
                       file.get(), &b, CompressionType::kLz4);
    }
    env->RemoveFile(name);
    if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
    training_seconds = b.props.training_micros / 1e6;
    state.SetIterationTime(b.seconds);
    state.counters["build_ms_per_Mkeys"] = b.seconds * 1e3 / mkeys;
  }
  if (kind == Kind::kLearned)
    state.counters["training_ms_per_Mkeys"] = training_seconds * 1e3 / mkeys;
  state.counters["keys"] = static_cast<double>(ks.size());
}

void BM_Lookup(benchmark::State& state, Kind kind, Dataset d, size_t n) {
  const KeySet& ks = Keys(d, n);
  Status s;
  LookupTable* table = CurrentTable(kind, ks, &s);
  if (table == nullptr) return state.SkipWithError(s.ToString().c_str());
  size_t i = 0, missed = 0;
  for (auto _ : state) {
    missed += !table->Lookup(i);
    i = (i + 1) & (kLookupKeys - 1);
  }
  if (missed > 0) return state.SkipWithError("a present key was not found");
  state.counters["index_bytes_per_key"] = table->IndexBytesPerKey();
  state.counters["keys"] = static_cast<double>(ks.size());
  table->AddCounters(state);
}

// ---- Configuration ----

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t comma = std::min(s.find(',', start), s.size());
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// "1M", "10M", "500K" or a plain number; 0 if malformed.
size_t ParseSize(const std::string& s) {
  char* end = nullptr;
  const double v = strtod(s.c_str(), &end);
  double scale = 1;
  if (*end == 'M' || *end == 'm') scale = 1e6, ++end;
  if (*end == 'K' || *end == 'k') scale = 1e3, ++end;
  return *end == '\0' && v > 0 ? static_cast<size_t>(v * scale) : 0;
}

std::string SizeName(size_t n) {
  if (n % 1000000 == 0) return std::to_string(n / 1000000) + "M";
  if (n % 1000 == 0) return std::to_string(n / 1000) + "K";
  return std::to_string(n);
}

// Removes --sizes= and --datasets= from argv (Google Benchmark rejects unknown flags).
std::string TakeFlag(int* argc, char** argv, const char* name, const char* env) {
  const std::string prefix = std::string("--") + name + "=";
  std::string value = getenv(env) != nullptr ? getenv(env) : "";
  int kept = 1;
  for (int i = 1; i < *argc; ++i) {
    if (strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) {
      value = argv[i] + prefix.size();
    } else {
      argv[kept++] = argv[i];
    }
  }
  *argc = kept;
  return value;
}

bool RegisterAll(int* argc, char** argv) {
  std::string sizes = TakeFlag(argc, argv, "sizes", "LEARNKV_BENCH_SIZES");
  std::string sets = TakeFlag(argc, argv, "datasets", "LEARNKV_BENCH_DATASETS");
  if (sizes.empty()) sizes = "1M";
  if (sets.empty() || sets == "all") {
    sets = "uniform_dense,uniform_sparse,normal,lognormal,osm,ycsb,random_binary";
  }
  std::vector<Kind> kinds = {Kind::kLearned, Kind::kBlock};
#ifdef LEARNKV_HAVE_ROCKSDB
  kinds.push_back(Kind::kRocksDB);
#endif
  for (const std::string& size : Split(sizes)) {
    const size_t n = ParseSize(size);
    if (n == 0 || n > (size_t{1} << 31)) {
      fprintf(stderr, "table_bench: bad size %s\n", size.c_str());
      return false;
    }
    for (const std::string& name : Split(sets)) {
      Dataset d;
      if (!ParseDataset(name, &d)) {
        fprintf(stderr, "table_bench: unknown data set %s\n", name.c_str());
        return false;
      }
      const std::string suffix = "/" + name + "/" + SizeName(n) + "/";
      for (Kind k : kinds) {
        benchmark::RegisterBenchmark(("Build" + suffix + KindName(k)).c_str(), BM_Build, k, d, n)
            ->Iterations(1)
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond);
      }
      for (Kind k : {Kind::kLearned, Kind::kBlock}) {
        benchmark::RegisterBenchmark(("BuildFile" + suffix + KindName(k)).c_str(), BM_BuildFile,
                                     k, d, n)
            ->Iterations(1)
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond);
      }
      for (Kind k : kinds) {
        benchmark::RegisterBenchmark(("Lookup" + suffix + KindName(k)).c_str(), BM_Lookup, k, d, n)
            ->UseRealTime()
            ->Unit(benchmark::kNanosecond);
      }
    }
  }
  return true;
}

}  // namespace
}  // namespace learnkv

int main(int argc, char** argv) {
  if (!learnkv::RegisterAll(&argc, argv)) return 2;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
