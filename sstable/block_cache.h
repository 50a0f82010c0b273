// BlockCache: a sharded cache of uncompressed blocks, shared between table readers through
// std::shared_ptr (TableOptions::block_cache). Entries are keyed by (cache id, a number the
// owner picks; table readers use the block's number); each reader takes a unique id from
// NewId() so that its keys never collide with another file's. Lookups hand out a Pin, a
// refcounted handle that keeps its block alive even if it is evicted or replaced meanwhile, so
// readers and iterators use cached blocks in place, without copying. An entry's charge counts
// against the capacity while it is cached, pinned or not. Eviction is LRU as CLOCK
// approximates it (block_cache.cc says why): unpinned entries not used for the longest time go
// first.
//
// Lookups are on every read's hot path, and on a large table each pointer they chase is a
// cache miss: a shard finds an entry with open addressing, and its slot (one 64-byte line)
// holds the key, the pin count and a view of the block, so a hit reads the slot and then the
// block, never the entry (which owns the block and the eviction links).
//
// Thread safety: all methods are thread-safe. Each shard has its own mutex; a lookup takes one
// shard lock briefly and allocates nothing. A Pin is a value owned by one thread at a time.
#ifndef LEARNKV_SSTABLE_BLOCK_CACHE_H_
#define LEARNKV_SSTABLE_BLOCK_CACHE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "sstable/block.h"

namespace learnkv {

class BlockCache {
 public:
  struct Entry;
  class Shard;

  // A pinned cache entry; empty when default-constructed or moved from. Releases on destruction.
  // REQUIRES: the cache outlives its pins.
  class Pin {
   public:
    Pin() = default;
    Pin(Pin&& other) noexcept
        : shard_(other.shard_),
          entry_(other.entry_),
          id_(other.id_),
          key_(other.key_),
          view_(std::move(other.view_)) {
      other.shard_ = nullptr;
      other.entry_ = nullptr;
    }
    Pin& operator=(Pin&& other) noexcept;
    Pin(const Pin&) = delete;
    Pin& operator=(const Pin&) = delete;
    ~Pin() { Reset(); }

    explicit operator bool() const { return entry_ != nullptr; }
    // The pinned block (null when empty). The pointer is into this Pin: it stays valid while
    // this Pin holds the entry, not after the Pin is moved from or reset.
    const Block* block() const { return entry_ == nullptr ? nullptr : &view_; }
    void Reset();

   private:
    friend class BlockCache;
    Pin(Shard* shard, Entry* entry, uint64_t id, uint64_t key, Block view)
        : shard_(shard), entry_(entry), id_(id), key_(key), view_(std::move(view)) {}
    Shard* shard_ = nullptr;
    Entry* entry_ = nullptr;
    uint64_t id_ = 0;
    uint64_t key_ = 0;
    Block view_;  // a view of entry_'s block
  };

  // capacity: bytes of blocks to keep. num_shard_bits: 2^bits shards (-1: chosen from the
  // capacity, at most 64 shards, each at least 512 KiB, as RocksDB chooses).
  explicit BlockCache(size_t capacity, int num_shard_bits = -1);
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;
  // REQUIRES: no Pin outstanding.
  ~BlockCache();

  // A fresh id for a reader's keys.
  uint64_t NewId() { return next_id_.fetch_add(1, std::memory_order_relaxed); }

  // Caches block under (id, key), replacing any entry with that key (which stays alive
  // while pinned), evicts as needed, and returns it pinned. charge: usually block->size().
  Pin Insert(uint64_t id, uint64_t key, Block block, size_t charge);
  // The cached block under (id, key), pinned, or an empty Pin.
  Pin Lookup(uint64_t id, uint64_t key);
  // Starts fetching, into the CPU cache, where Lookup(id, key) will look first: batched
  // readers call it for many keys before looking them up, so that those misses overlap.
  void Prefetch(uint64_t id, uint64_t key);
  // Drops the entry if cached (pins keep it alive until released).
  void Erase(uint64_t id, uint64_t key);
  // Drops every unpinned entry.
  void Prune();

  size_t capacity() const { return capacity_; }
  // Charge of the cached entries (pinned or not).
  size_t TotalCharge() const;
  // Charge of cached entries that are pinned now.
  size_t PinnedCharge() const;

 private:
  Shard& ShardFor(uint64_t hash) const;

  const size_t capacity_;
  int shard_bits_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<uint64_t> next_id_{1};
};

// Convenience for TableOptions::block_cache.
inline std::shared_ptr<BlockCache> NewBlockCache(size_t capacity) {
  return std::make_shared<BlockCache>(capacity);
}

}  // namespace learnkv

#endif  // LEARNKV_SSTABLE_BLOCK_CACHE_H_
