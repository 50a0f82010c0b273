// The RocksDB adapters: Debian's librocksdb (7.8.3) with BlockBasedTable (--engine=rocksdb) or
// with learnkv's table format through the LearnedTable plugin (--engine=rocksdb-learned, built
// when the plugin is: sstable/rocksdb/), configured from the same BenchConfig as learnkv — block
// size, block cache, compression, write buffers, filter, open files, and leveled compaction
// sizes and triggers. Only the table format differs between the two.

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/version.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "tools/bench/engine.h"
#ifdef LEARNKV_BENCH_LEARNED_TABLE
#include "sstable/block_cache.h"
#include "sstable/rocksdb/learned_table.h"
#endif

namespace learnkv::bench {

namespace {

rocksdb::Slice ToRocks(const Slice& s) { return rocksdb::Slice(s.data(), s.size()); }
Slice FromRocks(const rocksdb::Slice& s) { return Slice(s.data(), s.size()); }

Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return Status::OK();
  const std::string msg = s.ToString();
  if (s.IsNotFound()) return Status::NotFound(msg);
  if (s.IsCorruption()) return Status::Corruption(msg);
  if (s.IsNotSupported()) return Status::NotSupported(msg);
  if (s.IsInvalidArgument()) return Status::InvalidArgument(msg);
  if (s.IsBusy()) return Status::Busy(msg);
  return Status::IOError(msg);
}

rocksdb::CompressionType Compression(const std::string& name) {
  if (name == "lz4") return rocksdb::kLZ4Compression;
  if (name == "zstd") return rocksdb::kZSTD;
  if (name == "snappy") return rocksdb::kSnappyCompression;
  return rocksdb::kNoCompression;
}

class RocksReadContext : public ReadContext {
 public:
  rocksdb::PinnableSlice value;
  std::vector<rocksdb::Slice> keys;
  std::unique_ptr<rocksdb::PinnableSlice[]> values;
  std::unique_ptr<rocksdb::Status[]> statuses;
  size_t capacity = 0;
};

class RocksIterator : public BenchIterator {
 public:
  explicit RocksIterator(rocksdb::Iterator* it) : it_(it) {}
  bool Valid() const override { return it_->Valid(); }
  void SeekToFirst() override { it_->SeekToFirst(); }
  void SeekToLast() override { it_->SeekToLast(); }
  void Seek(const Slice& target) override { it_->Seek(ToRocks(target)); }
  void Next() override { it_->Next(); }
  void Prev() override { it_->Prev(); }
  Slice key() const override { return FromRocks(it_->key()); }
  Slice value() const override { return FromRocks(it_->value()); }
  Status status() const override { return FromRocks(it_->status()); }

 private:
  std::unique_ptr<rocksdb::Iterator> it_;
};

// The block cache whose usage Memory() reports: RocksDB's LRU cache, or the LearnedTable
// factory's learnkv cache; both null without a cache.
struct EngineCache {
  std::shared_ptr<rocksdb::Cache> rocksdb;
#ifdef LEARNKV_BENCH_LEARNED_TABLE
  std::shared_ptr<BlockCache> learnkv;
#endif
};

class RocksDbEngine : public BenchEngine {
 public:
  RocksDbEngine(std::unique_ptr<rocksdb::DB> db, const BenchConfig& config, bool learned_table,
                EngineCache cache, std::vector<std::string> notes)
      : db_(std::move(db)),
        learned_table_(learned_table),
        cache_(std::move(cache)),
        notes_(std::move(notes)) {
    write_options_.sync = config.sync;
    write_options_.disableWAL = config.disable_wal;
  }
  ~RocksDbEngine() override { Close(); }

  std::string Description() const override {
    return "RocksDB " + rocksdb::GetRocksVersionAsString() + " (Debian librocksdb, " +
           (learned_table_ ? "LearnedTable: learnkv's table format)" : "BlockBasedTable)");
  }
  std::vector<std::string> Notes() const override { return notes_; }

  Status Write(const Slice* keys, const Slice* values, size_t n) override {
    if (n == 1) return FromRocks(db_->Put(write_options_, ToRocks(keys[0]), ToRocks(values[0])));
    rocksdb::WriteBatch batch;
    for (size_t i = 0; i < n; ++i) batch.Put(ToRocks(keys[i]), ToRocks(values[i]));
    return FromRocks(db_->Write(write_options_, &batch));
  }
  Status Delete(const Slice& key) override {
    return FromRocks(db_->Delete(write_options_, ToRocks(key)));
  }

  std::unique_ptr<ReadContext> NewReadContext() override {
    return std::make_unique<RocksReadContext>();
  }
  Status Get(ReadContext* ctx, const Slice& key, size_t* value_size) override {
    auto* c = static_cast<RocksReadContext*>(ctx);
    c->value.Reset();
    rocksdb::Status s =
        db_->Get(read_options_, db_->DefaultColumnFamily(), ToRocks(key), &c->value);
    if (s.ok()) *value_size = c->value.size();
    return FromRocks(s);
  }
  Status MultiGet(ReadContext* ctx, const Slice* keys, size_t n, bool* found) override {
    auto* c = static_cast<RocksReadContext*>(ctx);
    if (c->capacity < n) {
      c->values.reset(new rocksdb::PinnableSlice[n]);
      c->statuses.reset(new rocksdb::Status[n]);
      c->capacity = n;
    }
    c->keys.resize(n);
    for (size_t i = 0; i < n; ++i) {
      c->keys[i] = ToRocks(keys[i]);
      c->values[i].Reset();
    }
    db_->MultiGet(read_options_, db_->DefaultColumnFamily(), n, c->keys.data(), c->values.get(),
                  c->statuses.get());
    for (size_t i = 0; i < n; ++i) {
      const rocksdb::Status& s = c->statuses[i];
      if (!s.ok() && !s.IsNotFound()) return FromRocks(s);
      found[i] = s.ok();
    }
    return Status::OK();
  }
  std::unique_ptr<BenchIterator> NewIterator() override {
    return std::make_unique<RocksIterator>(db_->NewIterator(read_options_));
  }

  Status Flush() override { return FromRocks(db_->Flush(rocksdb::FlushOptions())); }
  Status CompactAll() override {
    return FromRocks(db_->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr));
  }
  // RocksDB 7.8 has no WaitForCompact(); poll the properties that db_bench polls.
  Status WaitForCompaction() override {
    static const char* const kBusy[] = {"rocksdb.mem-table-flush-pending",
                                        "rocksdb.compaction-pending", "rocksdb.num-running-flushes",
                                        "rocksdb.num-running-compactions"};
    for (;;) {
      bool busy = false;
      for (const char* p : kBusy) {
        uint64_t v = 0;
        if (!db_->GetIntProperty(p, &v)) return Status::NotSupported(p);
        busy = busy || v > 0;
      }
      if (!busy) return Status::OK();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  std::string Stats() override { return Property("rocksdb.stats"); }
  std::string LevelStats() override { return Property("rocksdb.levelstats"); }
  EngineMemory Memory() override {
    EngineMemory m;
    m.table_readers_bytes = IntProperty("rocksdb.estimate-table-readers-mem");
    m.block_cache_bytes = 0;
    if (cache_.rocksdb != nullptr) m.block_cache_bytes = cache_.rocksdb->GetUsage();
#ifdef LEARNKV_BENCH_LEARNED_TABLE
    if (cache_.learnkv != nullptr) m.block_cache_bytes = cache_.learnkv->TotalCharge();
#endif
    m.memtable_bytes = IntProperty("rocksdb.cur-size-all-mem-tables");
    return m;
  }

  Status Close() override {
    if (db_ == nullptr) return Status::OK();
    rocksdb::Status s = db_->Close();
    db_.reset();
    return FromRocks(s);
  }

 private:
  std::string Property(const char* name) {
    std::string v;
    if (!db_->GetProperty(name, &v)) return std::string("(") + name + " not available)\n";
    return v;
  }
  int64_t IntProperty(const char* name) {
    uint64_t v = 0;
    return db_->GetIntProperty(name, &v) ? static_cast<int64_t>(v) : -1;
  }

  std::unique_ptr<rocksdb::DB> db_;
  const bool learned_table_;
  const EngineCache cache_;
  std::vector<std::string> notes_;
  rocksdb::ReadOptions read_options_;
  rocksdb::WriteOptions write_options_;
};

#ifdef LEARNKV_BENCH_LEARNED_TABLE
// The LearnedTable factory for the BenchConfig, mapped as the learnkv adapter maps it
// (engine_learnkv.cc), so that --engine=learnkv and --engine=rocksdb-learned build the same
// tables.
rocksdb::TableFactory* LearnedTableFactory(const BenchConfig& c, EngineCache* cache,
                                           std::vector<std::string>* notes) {
  LearnedTableOptions o;
  o.table.block_size = c.block_size;
  if (c.cache_size > 0) {
    cache->learnkv = NewBlockCache(static_cast<size_t>(c.cache_size));
    o.table.block_cache = cache->learnkv;
  } else {
    o.block_cache_size = 0;
  }
  o.table.filter.target_fpr = BloomBitsFpr(c.bloom_bits);
  switch (c.filter) {
    case FilterKind::kNone:
      o.table.filter.type = FilterType::kNone;
      break;
    case FilterKind::kBloom:
      o.table.filter.type = FilterType::kBloom;
      break;
    case FilterKind::kLearned:
      o.table.filter.type = FilterType::kAuto;
      notes->push_back(
          "RocksDB gives table builds no negative keys, so --filter=learned gives each "
          "LearnedTable the smaller classic filter (binary fuse).");
      break;
  }
  if (c.compression_type == "snappy") {
    notes->push_back("LearnedTable has no Snappy: --compression_type=snappy writes LZ4.");
  }
  return NewLearnedTableFactory(o);
}
#endif

rocksdb::Options MakeOptions(const BenchConfig& c, bool learned_table, EngineCache* cache,
                             std::vector<std::string>* notes) {
  rocksdb::Options o;
  o.create_if_missing = !c.use_existing_db;
  o.write_buffer_size = c.write_buffer_size;
  o.max_write_buffer_number = c.max_write_buffer_number;
  o.level0_file_num_compaction_trigger = c.level0_file_num_compaction_trigger;
  o.level0_slowdown_writes_trigger = c.level0_slowdown_writes_trigger;
  o.level0_stop_writes_trigger = c.level0_stop_writes_trigger;
  o.max_bytes_for_level_base = c.max_bytes_for_level_base;
  o.max_bytes_for_level_multiplier = c.max_bytes_for_level_multiplier;
  o.target_file_size_base = c.target_file_size_base;
  o.max_background_jobs = c.max_background_jobs;
  o.num_levels = c.num_levels;
  o.max_open_files = c.open_files;
  o.disable_auto_compactions = c.disable_auto_compactions;
  o.compression = Compression(c.compression_type);

#ifdef LEARNKV_BENCH_LEARNED_TABLE
  if (learned_table) {
    o.table_factory.reset(LearnedTableFactory(c, cache, notes));
    return o;
  }
#endif
  rocksdb::BlockBasedTableOptions t;
  t.block_size = c.block_size;
  if (c.cache_size > 0) {
    t.block_cache = rocksdb::NewLRUCache(static_cast<size_t>(c.cache_size));
    cache->rocksdb = t.block_cache;
  } else {
    t.no_block_cache = true;
  }
  if (c.filter != FilterKind::kNone) {
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(c.bloom_bits, false));
    if (c.filter == FilterKind::kLearned) {
      notes->push_back(
          "RocksDB has no learned filter: --filter=learned uses its Bloom filter "
          "with --bloom_bits=" +
          std::to_string(c.bloom_bits) + ".");
    }
  }
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

Status Open(const BenchConfig& config, const std::string& path, bool learned_table,
            std::unique_ptr<BenchEngine>* engine) {
  std::vector<std::string> notes;
  EngineCache cache;
  rocksdb::Options options = MakeOptions(config, learned_table, &cache, &notes);
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, path, &raw);
  if (!s.ok()) return FromRocks(s);
  *engine = std::make_unique<RocksDbEngine>(std::unique_ptr<rocksdb::DB>(raw), config,
                                            learned_table, std::move(cache), std::move(notes));
  return Status::OK();
}

Status Destroy(const BenchConfig& config, const std::string& path, bool learned_table) {
  std::vector<std::string> notes;
  EngineCache cache;
  return FromRocks(rocksdb::DestroyDB(path, MakeOptions(config, learned_table, &cache, &notes)));
}

}  // namespace

Status OpenRocksDbEngine(const BenchConfig& config, const std::string& path,
                         std::unique_ptr<BenchEngine>* engine) {
  return Open(config, path, /*learned_table=*/false, engine);
}

Status DestroyRocksDbEngine(const BenchConfig& config, const std::string& path) {
  return Destroy(config, path, /*learned_table=*/false);
}

#ifdef LEARNKV_BENCH_LEARNED_TABLE
Status OpenRocksDbLearnedEngine(const BenchConfig& config, const std::string& path,
                                std::unique_ptr<BenchEngine>* engine) {
  return Open(config, path, /*learned_table=*/true, engine);
}

Status DestroyRocksDbLearnedEngine(const BenchConfig& config, const std::string& path) {
  return Destroy(config, path, /*learned_table=*/true);
}
#endif

}  // namespace learnkv::bench
