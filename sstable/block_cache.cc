// Sharded LRU block cache (see block_cache.h).
//
// Each shard keeps an open-addressing hash table (linear probing, backward-shift deletion) of
// its entries and a list of its cached entries in recency order. A hit must not touch other
// entries: unlinking it from an LRU list would cost two more cache misses (its neighbours) on
// every lookup of a large cache. So a hit only marks its entry referenced, and eviction, which
// walks the list from its oldest end, gives referenced and pinned entries a second chance by
// moving them to the young end — CLOCK's approximation of LRU, which evicts what has not been
// used for the longest time up to that one bit of history. Refcounts: the cache holds one
// reference while an entry is cached, each Pin one more; the last release frees the entry.
#include "sstable/block_cache.h"

#include <algorithm>
#include <mutex>

namespace learnkv {

namespace {

uint64_t HashKey(uint64_t id, uint64_t key) {
  // murmur3's 64-bit finalizer over a mix of both halves.
  uint64_t h = id * 0x9e3779b97f4a7c15ull ^ key;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

}  // namespace

// One cache line holds what a hit touches: the refcount and the block's header.
struct alignas(64) BlockCache::Entry {
  uint32_t refs = 0;
  bool in_cache = false;
  bool referenced = false;  // looked up since eviction last passed it
  Block block;
  uint64_t id = 0;
  uint64_t key = 0;
  size_t charge = 0;
  Entry* prev = nullptr;  // recency list links, while cached
  Entry* next = nullptr;
};

class BlockCache::Shard {
 public:
  explicit Shard(size_t capacity) : capacity_(capacity), slots_(16) {
    list_.prev = list_.next = &list_;
  }

  ~Shard() {
    // REQUIRES (documented on BlockCache): nothing pinned, so every entry is the cache's alone.
    for (const Slot& slot : slots_) delete slot.entry;
  }

  Pin Insert(uint64_t id, uint64_t key, Block block, size_t charge) {
    Entry* e = new Entry;
    e->refs = 2;  // the cache's and the returned pin's
    e->in_cache = true;
    e->block = std::move(block);
    e->id = id;
    e->key = key;
    e->charge = charge;
    std::lock_guard<std::mutex> lock(mutex_);
    if ((count_ + 1) * 2 > slots_.size()) Grow();
    Slot& slot = slots_[FindSlot(id, key)];
    if (slot.entry != nullptr) {
      DropLocked(slot.entry);
    } else {
      slot.id = id;
      slot.key = key;
      ++count_;
    }
    slot.entry = e;
    slot.hint = e->block.PrefetchHint();
    Append(e);
    usage_ += charge;
    pinned_usage_ += charge;
    EvictLocked();
    return Pin(this, e);
  }

  Pin Lookup(uint64_t id, uint64_t key) {
    std::lock_guard<std::mutex> lock(mutex_);
    const Slot& slot = slots_[FindSlot(id, key)];
    Entry* e = slot.entry;
    if (e == nullptr) return Pin();
    // The entry and the block's record offsets are both cache misses on a large cache; the
    // slot knows where both are, so fetch them together instead of one after the other.
    __builtin_prefetch(slot.hint);
    __builtin_prefetch(slot.hint + 64);
    if (e->refs++ == 1) pinned_usage_ += e->charge;
    e->referenced = true;
    return Pin(this, e);
  }

  void Prefetch(uint64_t id, uint64_t key) const {
    std::lock_guard<std::mutex> lock(mutex_);  // slots_ may be reallocated by Grow()
    __builtin_prefetch(&slots_[Home(id, key)]);
  }

  void Release(Entry* e) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (--e->refs == 0) {
      delete e;  // it had left the cache
    } else if (e->refs == 1 && e->in_cache) {
      pinned_usage_ -= e->charge;
      // Pinned entries could not be evicted; the cache may be over capacity because of them.
      if (usage_ > capacity_) EvictLocked();
    }
  }

  void Erase(uint64_t id, uint64_t key) {
    std::lock_guard<std::mutex> lock(mutex_);
    const size_t i = FindSlot(id, key);
    if (slots_[i].entry == nullptr) return;
    Entry* e = slots_[i].entry;
    RemoveSlot(i);
    DropLocked(e);
  }

  void Prune() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (Entry* e = list_.next; e != &list_;) {
      Entry* next = e->next;
      if (e->refs == 1) RemoveLocked(e);
      e = next;
    }
  }

  size_t usage() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return usage_;
  }
  size_t pinned_usage() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return pinned_usage_;
  }

 private:
  struct Slot {
    uint64_t id = 0;
    uint64_t key = 0;
    Entry* entry = nullptr;      // null: empty slot
    const char* hint = nullptr;  // entry->block.PrefetchHint()
  };

  size_t Home(uint64_t id, uint64_t key) const { return HashKey(id, key) & (slots_.size() - 1); }

  // The slot holding (id, key), or the empty slot where it would go.
  size_t FindSlot(uint64_t id, uint64_t key) const {
    const size_t mask = slots_.size() - 1;
    size_t i = Home(id, key);
    while (slots_[i].entry != nullptr && (slots_[i].id != id || slots_[i].key != key)) {
      i = (i + 1) & mask;
    }
    return i;
  }

  // Empties slot i, moving later members of its probe run back so lookups never stop early.
  void RemoveSlot(size_t i) {
    const size_t mask = slots_.size() - 1;
    size_t j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (slots_[j].entry == nullptr) break;
      const size_t home = Home(slots_[j].id, slots_[j].key);
      // slots_[j] may fill the hole at i unless its home lies cyclically in (i, j].
      const bool home_in_between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (!home_in_between) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = Slot();
    --count_;
  }

  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.size() * 2, Slot());
    for (const Slot& slot : old) {
      if (slot.entry != nullptr) slots_[FindSlot(slot.id, slot.key)] = slot;
    }
  }

  // Takes a cached entry out of the cache once its slot is gone or reused, and drops the
  // cache's reference.
  void DropLocked(Entry* e) {
    e->in_cache = false;
    usage_ -= e->charge;
    if (e->refs > 1) pinned_usage_ -= e->charge;
    Unlink(e);
    if (--e->refs == 0) delete e;
  }

  void RemoveLocked(Entry* e) {
    RemoveSlot(FindSlot(e->id, e->key));
    DropLocked(e);
  }

  // Evicts from the old end until the shard fits. Each entry is passed over at most twice
  // (pinned, or referenced once), so the walk is bounded even when everything is pinned.
  void EvictLocked() {
    size_t budget = 2 * count_ + 1;
    while (usage_ > capacity_ && list_.next != &list_ && budget-- > 0) {
      Entry* e = list_.next;
      if (e->refs > 1 || e->referenced) {
        e->referenced = false;
        Unlink(e);
        Append(e);
      } else {
        RemoveLocked(e);
      }
    }
  }

  void Unlink(Entry* e) {
    e->prev->next = e->next;
    e->next->prev = e->prev;
    e->prev = e->next = nullptr;
  }
  void Append(Entry* e) {  // at the young end
    e->next = &list_;
    e->prev = list_.prev;
    e->prev->next = e;
    list_.prev = e;
  }

  const size_t capacity_;
  mutable std::mutex mutex_;
  std::vector<Slot> slots_;  // GUARDED_BY(mutex_); a power of two, at most half full
  size_t count_ = 0;         // GUARDED_BY(mutex_); occupied slots
  Entry list_;               // GUARDED_BY(mutex_); sentinel: next is the oldest entry
  size_t usage_ = 0;         // GUARDED_BY(mutex_)
  size_t pinned_usage_ = 0;  // GUARDED_BY(mutex_)
};

BlockCache::Pin& BlockCache::Pin::operator=(Pin&& other) noexcept {
  if (this != &other) {
    Reset();
    shard_ = other.shard_;
    entry_ = other.entry_;
    other.shard_ = nullptr;
    other.entry_ = nullptr;
  }
  return *this;
}

const Block* BlockCache::Pin::block() const { return entry_ == nullptr ? nullptr : &entry_->block; }

void BlockCache::Pin::Reset() {
  if (entry_ != nullptr) shard_->Release(entry_);
  shard_ = nullptr;
  entry_ = nullptr;
}

BlockCache::BlockCache(size_t capacity, int num_shard_bits) : capacity_(capacity) {
  if (num_shard_bits < 0) {
    num_shard_bits = 0;
    while (num_shard_bits < 4 && (capacity >> (num_shard_bits + 1)) >= (size_t{512} << 10)) {
      ++num_shard_bits;
    }
  }
  shard_bits_ = num_shard_bits;
  const size_t num_shards = size_t{1} << shard_bits_;
  const size_t per_shard = (capacity + num_shards - 1) / num_shards;
  for (size_t i = 0; i < num_shards; ++i) shards_.push_back(std::make_unique<Shard>(per_shard));
}

BlockCache::~BlockCache() = default;

BlockCache::Shard& BlockCache::ShardFor(uint64_t hash) const {
  return *shards_[shard_bits_ == 0 ? 0 : hash >> (64 - shard_bits_)];
}

BlockCache::Pin BlockCache::Insert(uint64_t id, uint64_t key, Block block, size_t charge) {
  return ShardFor(HashKey(id, key)).Insert(id, key, std::move(block), charge);
}

BlockCache::Pin BlockCache::Lookup(uint64_t id, uint64_t key) {
  return ShardFor(HashKey(id, key)).Lookup(id, key);
}

void BlockCache::Prefetch(uint64_t id, uint64_t key) {
  ShardFor(HashKey(id, key)).Prefetch(id, key);
}

void BlockCache::Erase(uint64_t id, uint64_t key) { ShardFor(HashKey(id, key)).Erase(id, key); }

void BlockCache::Prune() {
  for (auto& s : shards_) s->Prune();
}

size_t BlockCache::TotalCharge() const {
  size_t total = 0;
  for (const auto& s : shards_) total += s->usage();
  return total;
}

size_t BlockCache::PinnedCharge() const {
  size_t total = 0;
  for (const auto& s : shards_) total += s->pinned_usage();
  return total;
}

}  // namespace learnkv
