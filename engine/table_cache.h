// TableCache: the open TableReaders of a DB, keyed by file number — an LRU of at most
// `capacity` readers, so that a lookup reuses the file handle and the decoded model (or block
// index) instead of reopening the table. Every reader shares the DB's BlockCache through the
// TableOptions given here.
//
// A reader is handed out as a shared_ptr: one evicted while a lookup or iterator still uses it
// stays alive until released.
//
// Thread safety: all methods are thread-safe. The cache is sharded by file number; a lookup
// takes one shard lock briefly, and a miss opens the table without holding any lock.
#ifndef LEARNKV_ENGINE_TABLE_CACHE_H_
#define LEARNKV_ENGINE_TABLE_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

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

  // An iterator over the table's internal keys; it keeps the reader alive.
  std::unique_ptr<Iterator> NewIterator(uint64_t number, uint64_t file_size,
                                        const TableReadOptions& read);

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

  // TableReader::Get on table `number`.
  Status Get(uint64_t number, uint64_t file_size, const Slice& internal_key,
             TableReader::EntryCallback on_entry);

  // Drops the reader of a table that is being deleted.
  void Evict(uint64_t number);

  // Sums over the readers currently open.
  size_t IndexMemoryUsage();
  size_t FilterMemoryUsage();
  size_t NumOpen();

 private:
  size_t SumOverOpen(size_t (TableReader::*usage)() const);

  using Entry = std::pair<uint64_t, std::shared_ptr<const TableReader>>;
  struct Shard {
    Mutex mu;
    std::list<Entry> lru GUARDED_BY(mu);  // most recently used first
    std::unordered_map<uint64_t, std::list<Entry>::iterator> map GUARDED_BY(mu);
  };
  static constexpr int kNumShards = 16;

  Shard& ShardFor(uint64_t number) { return shards_[number % kNumShards]; }
  Status OpenTable(uint64_t number, uint64_t file_size, std::unique_ptr<TableReader>* reader);

  const std::string dbname_;
  Env* const env_;
  const TableOptions options_;
  const size_t per_shard_capacity_;
  Shard shards_[kNumShards];
};

}  // namespace learnkv

#endif  // LEARNKV_ENGINE_TABLE_CACHE_H_
