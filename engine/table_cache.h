// TableCache: the open TableReaders of a DB, keyed by file number — an LRU of at most
// `capacity` readers, so that a lookup reuses the file handle and the decoded model (or block
// index) instead of reopening the table. Every reader shares the DB's BlockCache through the
// TableOptions given here.
//
// A reader is handed out as a shared_ptr: one evicted while a lookup or iterator still uses it
// stays alive until released.
//
// Up to a quarter of the capacity may be pinned (Pin): a pinned reader leaves the LRU and stays
// open until its file is deleted (Evict), so the VersionSet can keep it in the file's
// FileMetaData and lookups reach it without a lock or a reference count. RocksDB pins table
// readers in its FileMetaData by the same rule while its table cache is under a quarter full.
//
// Thread safety: all methods are thread-safe. The cache is sharded by file number; a lookup
// takes one shard lock briefly, and a miss opens the table without holding any lock.
#ifndef LEARNKV_ENGINE_TABLE_CACHE_H_
#define LEARNKV_ENGINE_TABLE_CACHE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/version_edit.h"
#include "learnkv/env.h"
#include "learnkv/iterator.h"
#include "learnkv/options.h"
#include "learnkv/status.h"
#include "learnkv/table_options.h"
#include "sstable/table_reader.h"
#include "util/mutexlock.h"

namespace learnkv {

class TableCache {
 public:
  // env and the table options' block cache must outlive the TableCache.
  TableCache(std::string dbname, Env* env, const TableOptions& options, size_t capacity);
  TableCache(const TableCache&) = delete;
  TableCache& operator=(const TableCache&) = delete;

  // The reader of table `number` (file_size bytes), opening it on a miss. Errors name the file.
  Status FindTable(uint64_t number, uint64_t file_size, std::shared_ptr<const TableReader>* out);

  // FindTable, and the reader stays open until Evict(number), whatever else the cache holds.
  // Sets *out to null (and pins nothing) once capacity / 4 readers are pinned.
  Status Pin(uint64_t number, uint64_t file_size, std::shared_ptr<const TableReader>* out);

  // An iterator over table f's internal keys; it keeps the reader alive.
  std::unique_ptr<Iterator> NewIterator(const FileMetaData& f, const TableReadOptions& read);

  // How a DB read with `options` reads tables: it verifies checksums and fills the block cache
  // only where both its options and the table options allow.
  TableReadOptions ForRead(const ReadOptions& options) const {
    return TableReadOptions{options.verify_checksums && options_.verify_checksums,
                            options.fill_cache && options_.fill_cache};
  }
  // How a compaction reads its inputs: verified as lookups are, but never added to the block
  // cache — each block is read once, and caching it would evict the blocks lookups use.
  TableReadOptions ForCompaction() const {
    return TableReadOptions{options_.verify_checksums, /*fill_cache=*/false};
  }

  // TableReader::Get on table f: through its pinned reader when it has one.
  Status Get(const FileMetaData& f, const Slice& internal_key,
             TableReader::EntryCallback on_entry);

  // The reader of table f: f.table when pinned, else FindTable's, kept alive by *holder.
  Status Reader(const FileMetaData& f, std::shared_ptr<const TableReader>* holder,
                const TableReader** table) {
    if (f.table != nullptr) {
      *table = f.table.get();
      return Status::OK();
    }
    Status s = FindTable(f.number, f.file_size, holder);
    *table = holder->get();
    return s;
  }

  // Drops the reader of a table that is being deleted.
  void Evict(uint64_t number);

  // Sums over the readers currently open.
  size_t IndexMemoryUsage();
  size_t FilterMemoryUsage();
  size_t NumOpen();
  size_t NumPinned() const { return num_pinned_.load(std::memory_order_relaxed); }

 private:
  size_t SumOverOpen(size_t (TableReader::*usage)() const);

  using Entry = std::pair<uint64_t, std::shared_ptr<const TableReader>>;
  struct Shard {
    Mutex mu;
    std::list<Entry> lru GUARDED_BY(mu);  // most recently used first
    std::unordered_map<uint64_t, std::list<Entry>::iterator> map GUARDED_BY(mu);
    std::unordered_map<uint64_t, std::shared_ptr<const TableReader>> pinned GUARDED_BY(mu);
  };
  static constexpr int kNumShards = 16;

  Shard& ShardFor(uint64_t number) { return shards_[number % kNumShards]; }
  // The cached or pinned reader of `number` (a cached one becomes most recently used).
  static bool FindLocked(Shard* shard, uint64_t number, std::shared_ptr<const TableReader>* out)
      EXCLUSIVE_LOCKS_REQUIRED(shard->mu);
  Status OpenTable(uint64_t number, uint64_t file_size, std::unique_ptr<TableReader>* reader);

  const std::string dbname_;
  Env* const env_;
  const TableOptions options_;
  const size_t per_shard_capacity_;
  const size_t max_pinned_;
  std::atomic<size_t> num_pinned_{0};
  Shard shards_[kNumShards];
};

}  // namespace learnkv

#endif  // LEARNKV_ENGINE_TABLE_CACHE_H_
