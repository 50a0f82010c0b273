// The learnkv adapter: learnkv's public DB API (include/learnkv/db.h), configured from the same
// BenchConfig as RocksDB.

#include <cstdio>
#include <cstdlib>

#include "learnkv/db.h"
#include "learnkv/iterator.h"
#include "learnkv/options.h"
#include "learnkv/write_batch.h"
#include "sstable/block_cache.h"
#include "tools/bench/engine.h"

namespace learnkv::bench {

namespace {

class LearnkvReadContext : public ReadContext {
 public:
  std::string value;
  std::vector<Slice> keys;
  std::vector<std::string> values;
  std::vector<Status> statuses;
};

class LearnkvIterator : public BenchIterator {
 public:
  explicit LearnkvIterator(std::unique_ptr<Iterator> it) : it_(std::move(it)) {}
  bool Valid() const override { return it_->Valid(); }
  void SeekToFirst() override { it_->SeekToFirst(); }
  void SeekToLast() override { it_->SeekToLast(); }
  void Seek(const Slice& target) override { it_->Seek(target); }
  void Next() override { it_->Next(); }
  void Prev() override { it_->Prev(); }
  Slice key() const override { return it_->key(); }
  Slice value() const override { return it_->value(); }
  Status status() const override { return it_->status(); }

 private:
  std::unique_ptr<Iterator> it_;
};

class LearnkvEngine : public BenchEngine {
 public:
  LearnkvEngine(std::unique_ptr<DB> db, const BenchConfig& config, std::vector<std::string> notes)
      : db_(std::move(db)),
        num_levels_(config.num_levels),
        accelerator_(!config.accelerator.empty()),
        notes_(std::move(notes)) {
    write_options_.sync = config.sync;
    write_options_.disable_wal = config.disable_wal;
  }
  ~LearnkvEngine() override { Close(); }

  std::string Description() const override { return "learnkv " LEARNKV_BENCH_VERSION; }
  std::vector<std::string> Notes() const override { return notes_; }

  Status Write(const Slice* keys, const Slice* values, size_t n) override {
    if (n == 1) return db_->Put(write_options_, keys[0], values[0]);
    WriteBatch batch;
    for (size_t i = 0; i < n; ++i) {
      Status s = batch.Put(keys[i], values[i]);
      if (!s.ok()) return s;
    }
    return db_->Write(write_options_, &batch);
  }
  Status Delete(const Slice& key) override { return db_->Delete(write_options_, key); }

  std::unique_ptr<ReadContext> NewReadContext() override {
    return std::make_unique<LearnkvReadContext>();
  }
  Status Get(ReadContext* ctx, const Slice& key, size_t* value_size) override {
    auto* c = static_cast<LearnkvReadContext*>(ctx);
    Status s = db_->Get(read_options_, key, &c->value);
    if (s.ok()) *value_size = c->value.size();
    return s;
  }
  Status MultiGet(ReadContext* ctx, const Slice* keys, size_t n, bool* found) override {
    auto* c = static_cast<LearnkvReadContext*>(ctx);
    c->keys.assign(keys, keys + n);
    db_->MultiGet(read_options_, c->keys, &c->values, &c->statuses);
    if (c->statuses.size() != n) return Status::Corruption("MultiGet answered the wrong count");
    for (size_t i = 0; i < n; ++i) {
      const Status& s = c->statuses[i];
      if (!s.ok() && !s.IsNotFound()) return s;
      found[i] = s.ok();
    }
    return Status::OK();
  }
  std::unique_ptr<BenchIterator> NewIterator() override {
    return std::make_unique<LearnkvIterator>(db_->NewIterator(read_options_));
  }

  Status Flush() override { return db_->Flush(FlushOptions()); }
  Status CompactAll() override { return db_->CompactRange(nullptr, nullptr); }
  Status WaitForCompaction() override { return db_->WaitForCompaction(); }

  std::string Stats() override {
    std::string v;
    std::string out = db_->GetProperty("learnkv.stats", &v) ? v : "(learnkv.stats not available)\n";
    if (accelerator_ && db_->GetProperty("learnkv.accel", &v)) out += "\n" + v;
    return out;
  }
  std::string LevelStats() override {
    std::string out = "Level Files\n-----------\n";
    for (int level = 0; level < num_levels_; ++level) {
      std::string v;
      if (!db_->GetProperty("learnkv.num-files-at-level" + std::to_string(level), &v)) break;
      char line[64];
      snprintf(line, sizeof(line), "%5d %5s\n", level, v.c_str());
      out += line;
    }
    return out;
  }
  EngineAccelerator Accelerator() override {
    EngineAccelerator a;
    if (!accelerator_) return a;
    db_->GetProperty("learnkv.accel", &a.text);
    db_->GetProperty("learnkv.accel-values", &a.values);
    return a;
  }
  EngineMemory Memory() override {
    EngineMemory m;
    m.index_bytes = IntProperty("learnkv.index-memory");
    m.filter_bytes = IntProperty("learnkv.filter-memory");
    return m;
  }

  Status Close() override {
    if (db_ == nullptr) return Status::OK();
    Status s = db_->Close();
    db_.reset();
    return s;
  }

 private:
  int64_t IntProperty(const std::string& name) {
    std::string v;
    if (!db_->GetProperty(name, &v) || v.empty()) return -1;
    char* end = nullptr;
    const unsigned long long x = strtoull(v.c_str(), &end, 10);
    return end != v.c_str() ? static_cast<int64_t>(x) : -1;
  }

  std::unique_ptr<DB> db_;
  const int num_levels_;
  const bool accelerator_;
  std::vector<std::string> notes_;
  ReadOptions read_options_;
  WriteOptions write_options_;
};

Status MakeOptions(const BenchConfig& c, Options* o, std::vector<std::string>* notes) {
  o->create_if_missing = !c.use_existing_db;
  o->write_buffer_size = c.write_buffer_size;
  o->max_write_buffer_number = c.max_write_buffer_number;
  o->level0_file_num_compaction_trigger = c.level0_file_num_compaction_trigger;
  o->level0_slowdown_writes_trigger = c.level0_slowdown_writes_trigger;
  o->level0_stop_writes_trigger = c.level0_stop_writes_trigger;
  o->max_bytes_for_level_base = c.max_bytes_for_level_base;
  o->max_bytes_for_level_multiplier = c.max_bytes_for_level_multiplier;
  o->target_file_size_base = c.target_file_size_base;
  o->max_background_jobs = c.max_background_jobs;
  o->num_levels = c.num_levels;
  o->max_open_files = c.open_files;
  o->disable_auto_compactions = c.disable_auto_compactions;

  TableOptions& t = o->table_options;
  t.block_size = c.block_size;
  if (c.compression_type == "none") {
    t.compression = CompressionType::kNone;
  } else if (c.compression_type == "lz4") {
    t.compression = CompressionType::kLz4;
  } else if (c.compression_type == "zstd") {
    t.compression = CompressionType::kZstd;
  } else {
    return Status::NotSupported("learnkv has no " + c.compression_type + " compression",
                                "use --compression_type=none, lz4 or zstd");
  }
  if (c.cache_size > 0) t.block_cache = NewBlockCache(static_cast<size_t>(c.cache_size));
  t.filter.target_fpr = BloomBitsFpr(c.bloom_bits);
  switch (c.filter) {
    case FilterKind::kNone:
      t.filter.type = FilterType::kNone;
      break;
    case FilterKind::kBloom:
      t.filter.type = FilterType::kBloom;
      break;
    case FilterKind::kLearned:
      // Each table gets a learned filter where the missed lookups sampled per level (and the
      // keys of the deeper level) make one smaller than the classic filter at the same rate,
      // else the smaller classic one (engine/level_filters.h; learnkv.filters shows which).
      t.filter.type = FilterType::kAuto;
      break;
  }
  o->accelerator = c.accelerator;
  o->accel_max_wait_micros = c.accel_max_wait_micros;
  o->accel_batch_cap = c.accel_batch_cap;
  if (!c.accelerator.empty()) {
    notes->push_back("--accelerator=" + c.accelerator +
                     ": each batch of model inferences is scheduled on a simulated device; "
                     "results are computed on the CPU and the device's time is simulated "
                     "(learnkv.accel at the end of the run).");
  }
  return Status::OK();
}

}  // namespace

Status OpenLearnkvEngine(const BenchConfig& config, const std::string& path,
                         std::unique_ptr<BenchEngine>* engine) {
  Options options;
  std::vector<std::string> notes;
  Status s = MakeOptions(config, &options, &notes);
  if (!s.ok()) return s;
  std::unique_ptr<DB> db;
  s = DB::Open(options, path, &db);
  if (!s.ok()) return s;
  *engine = std::make_unique<LearnkvEngine>(std::move(db), config, std::move(notes));
  return Status::OK();
}

Status DestroyLearnkvEngine(const BenchConfig& config, const std::string& path) {
  Options options;
  std::vector<std::string> notes;
  MakeOptions(config, &options, &notes);  // a compression error does not matter here
  return DestroyDB(path, options);
}

}  // namespace learnkv::bench
