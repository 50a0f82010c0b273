// BenchEngine: the narrow interface learnkv-bench drives, with one adapter per engine
// (engine_learnkv.cc, engine_rocksdb.cc). Each adapter translates the shared BenchConfig into
// its engine's options — the same cache, compression, write buffer, filter and compaction
// settings — and reports what it could not apply in Notes(), so a comparison never silently
// differs in configuration.
//
// Thread safety: every method except Close may be called from many threads at once (both
// engines are thread-safe). A ReadContext or BenchIterator is used by one thread at a time.
#ifndef LEARNKV_TOOLS_BENCH_ENGINE_H_
#define LEARNKV_TOOLS_BENCH_ENGINE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "learnkv/slice.h"
#include "learnkv/status.h"
#include "tools/bench/config.h"

namespace learnkv::bench {

// Per-thread buffers an adapter keeps between reads (pinned values, MultiGet vectors), so the
// timed loop allocates nothing.
class ReadContext {
 public:
  virtual ~ReadContext() = default;
};

// An ordered iterator over the whole DB.
class BenchIterator {
 public:
  virtual ~BenchIterator() = default;
  virtual bool Valid() const = 0;
  virtual void SeekToFirst() = 0;
  virtual void SeekToLast() = 0;
  virtual void Seek(const Slice& target) = 0;
  virtual void Next() = 0;
  virtual void Prev() = 0;
  // REQUIRES: Valid(). Views valid until the iterator moves.
  virtual Slice key() const = 0;
  virtual Slice value() const = 0;
  virtual Status status() const = 0;
};

// Memory held by open tables for lookups. -1: the engine does not report that figure.
struct EngineMemory {
  int64_t index_bytes = -1;          // learnkv.index-memory
  int64_t filter_bytes = -1;         // learnkv.filter-memory
  int64_t table_readers_bytes = -1;  // rocksdb.estimate-table-readers-mem (indexes + filters)
  int64_t block_cache_bytes = -1;    // bytes in the block cache now
  int64_t memtable_bytes = -1;       // bytes in memtables now
};

// The simulated accelerator's statistics (learnkv.accel): as text, and as "name=value" lines
// (learnkv.accel-values). Both empty for an engine without one.
struct EngineAccelerator {
  std::string text;
  std::string values;
};

class BenchEngine {
 public:
  virtual ~BenchEngine() = default;

  // The engine and its version, e.g. "RocksDB 7.8.3 (Debian librocksdb, BlockBasedTable)".
  virtual std::string Description() const = 0;
  // Settings of the BenchConfig this engine could not apply, one sentence each.
  virtual std::vector<std::string> Notes() const = 0;

  // Writes n keys with their values: one Put when n == 1, otherwise one atomic batch.
  virtual Status Write(const Slice* keys, const Slice* values, size_t n) = 0;
  virtual Status Delete(const Slice& key) = 0;

  virtual std::unique_ptr<ReadContext> NewReadContext() = 0;
  // OK and *value_size if present; NotFound if absent; another error on failure.
  virtual Status Get(ReadContext* ctx, const Slice& key, size_t* value_size) = 0;
  // Looks up n keys in one call; found[i] answers keys[i]. Errors other than NotFound fail the
  // call.
  virtual Status MultiGet(ReadContext* ctx, const Slice* keys, size_t n, bool* found) = 0;
  virtual std::unique_ptr<BenchIterator> NewIterator() = 0;

  virtual Status Flush() = 0;
  // Compacts the whole key range and waits for it.
  virtual Status CompactAll() = 0;
  // Waits until no flush or compaction is pending or running.
  virtual Status WaitForCompaction() = 0;

  // The engine's own statistics text ("stats") and per-level file counts and sizes
  // ("levelstats").
  virtual std::string Stats() = 0;
  virtual std::string LevelStats() = 0;
  virtual EngineMemory Memory() = 0;
  // Only learnkv has one (--accelerator).
  virtual EngineAccelerator Accelerator() { return EngineAccelerator(); }

  // Stops background work and closes the DB; later calls fail.
  virtual Status Close() = 0;
};

// The false-positive rate every learnkv filter is sized for under --bloom_bits=b: that of a
// cache-local Bloom filter of b bits per key (RocksDB's format; BloomFilter::ExpectedFpr),
// 0.96% at 10 bits, which RocksDB's own statistics confirm (rocksdb.bloom.filter.full.positive
// over 2M absent keys: 0.963%). The textbook 0.6185^b (0.82%) is for a filter whose probes
// spread over the whole bit array, not the one the comparison runs against.
double BloomBitsFpr(int bloom_bits);

// OK if this build can run engine `name`; otherwise why not.
Status CheckEngineAvailable(const std::string& name);
// Opens engine `name` ("learnkv", "rocksdb", "rocksdb-learned") on directory `path`, creating
// it if missing. NotSupported for an engine not available in this build.
Status OpenEngine(const std::string& name, const BenchConfig& config, const std::string& path,
                  std::unique_ptr<BenchEngine>* engine);
// Removes the DB of engine `name` at `path`, if any.
Status DestroyEngine(const std::string& name, const BenchConfig& config, const std::string& path);

// The adapters (each in its own file).
Status OpenLearnkvEngine(const BenchConfig& config, const std::string& path,
                         std::unique_ptr<BenchEngine>* engine);
Status DestroyLearnkvEngine(const BenchConfig& config, const std::string& path);
Status OpenRocksDbEngine(const BenchConfig& config, const std::string& path,
                         std::unique_ptr<BenchEngine>* engine);
Status DestroyRocksDbEngine(const BenchConfig& config, const std::string& path);
// RocksDB with the LearnedTable plugin; defined only in builds with the plugin
// (LEARNKV_BENCH_LEARNED_TABLE).
Status OpenRocksDbLearnedEngine(const BenchConfig& config, const std::string& path,
                                std::unique_ptr<BenchEngine>* engine);
Status DestroyRocksDbLearnedEngine(const BenchConfig& config, const std::string& path);

}  // namespace learnkv::bench

#endif  // LEARNKV_TOOLS_BENCH_ENGINE_H_
