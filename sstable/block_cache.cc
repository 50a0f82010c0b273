// Sharded LRU block cache (see block_cache.h).
//
// Each shard keeps an open-addressing hash table (linear probing, backward-shift deletion) of
// its entries and a list of its cached entries in recency order. A hit must not touch other
// entries: unlinking it from an LRU list would cost two more cache misses (its neighbours) on
// every lookup of a large cache. So a hit only marks its slot referenced, and eviction, which
// walks the list from its oldest end, gives referenced and pinned entries a second chance by
// moving them to the young end — CLOCK's approximation of LRU, which evicts what has not been
// used for the longest time up to that one bit of history. Pins: while an entry is cached its
// slot counts them (a hit and its release touch the slot only, never the entry); when it
// leaves the cache the count moves to the entry's refs, and the last release frees it.
#include "sstable/block_cache.h"

#include <algorithm>
#include <mutex>

#include "util/mutexlock.h"

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

// An entry owns its block. While it is cached, its slot counts the pins taken (so that a hit
// and a release touch only the slot); when it leaves the cache, the pins still held move to
// refs, and the last release frees it.
struct BlockCache::Entry {
  uint32_t refs = 0;  // 1 for the cache while cached, plus pins held past leaving the cache
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
    e->refs = 1;  // the cache's; the returned pin counts in the slot
    e->block = std::move(block);
    e->id = id;
    e->key = key;
    e->charge = charge;
    std::lock_guard<AdaptiveMutex> lock(mutex_);
    if ((count_ + 1) * 2 > slots_.size()) Grow();
    Slot& slot = slots_[FindSlot(id, key)];
    if (slot.entry != nullptr) {
      DropLocked(&slot);
    } else {
      slot.id = id;
      slot.key = key;
      ++count_;
    }
    slot.entry = e;
    slot.data = e->block.data_;
    slot.offsets = e->block.offsets_;
    slot.size = e->block.size_;
    slot.num_records = e->block.num_records_;
    slot.wide = e->block.wide_;
    slot.pins = 1;
    slot.referenced = false;
    Pin pin(this, e, id, key, ViewOf(slot));
    Append(e);
    usage_ += charge;
    EvictLocked();  // may move slots; the pin holds its own view
    return pin;
  }

  Pin Lookup(uint64_t id, uint64_t key) {
    std::lock_guard<AdaptiveMutex> lock(mutex_);
    Slot& slot = slots_[FindSlot(id, key)];
    if (slot.entry == nullptr) return Pin();
    // The record offsets are the next miss; start it now.
    __builtin_prefetch(slot.offsets);
    ++slot.pins;
    slot.referenced = true;
    return Pin(this, slot.entry, id, key, ViewOf(slot));
  }

  void Prefetch(uint64_t id, uint64_t key) const {
    std::lock_guard<AdaptiveMutex> lock(mutex_);  // slots_ may be reallocated by Grow()
    __builtin_prefetch(&slots_[Home(id, key)]);
  }

  void Release(Entry* e, uint64_t id, uint64_t key) {
    std::lock_guard<AdaptiveMutex> lock(mutex_);
    Slot& slot = slots_[FindSlot(id, key)];
    if (slot.entry == e) {
      // Still cached: the pin was counted in the slot. (A pinned entry cannot be freed, so no
      // other entry can have its address meanwhile.)
      if (--slot.pins == 0 && usage_ > capacity_) {
        // Pinned entries could not be evicted; the cache may be over capacity because of them.
        EvictLocked();
      }
    } else if (--e->refs == 0) {
      delete e;  // it had left the cache; this was the last pin
    }
  }

  void Erase(uint64_t id, uint64_t key) {
    std::lock_guard<AdaptiveMutex> lock(mutex_);
    const size_t i = FindSlot(id, key);
    if (slots_[i].entry == nullptr) return;
    DropLocked(&slots_[i]);
    RemoveSlot(i);
  }

  void Prune() {
    std::lock_guard<AdaptiveMutex> lock(mutex_);
    for (Entry* e = list_.next; e != &list_;) {
      Entry* next = e->next;
      const size_t i = FindSlot(e->id, e->key);
      if (slots_[i].pins == 0) RemoveLocked(i);
      e = next;
    }
  }

  size_t usage() const {
    std::lock_guard<AdaptiveMutex> lock(mutex_);
    return usage_;
  }
  size_t pinned_usage() const {
    // Not kept up to date on every pin (that would read the entry on every hit): summed here.
    std::lock_guard<AdaptiveMutex> lock(mutex_);
    size_t total = 0;
    for (const Slot& slot : slots_) {
      if (slot.entry != nullptr && slot.pins > 0) total += slot.entry->charge;
    }
    return total;
  }

 private:
  // What a hit needs, in one cache line: the key, the pin count, and the block's view.
  struct alignas(64) Slot {
    uint64_t id = 0;
    uint64_t key = 0;
    Entry* entry = nullptr;  // null: empty slot
    const char* data = nullptr;  // entry->block's fields, for views
    const char* offsets = nullptr;
    size_t size = 0;
    uint32_t num_records = 0;
    uint32_t pins = 0;  // pins taken on this entry while cached, not yet released
    bool wide = false;
    bool referenced = false;  // looked up since eviction last passed it
  };
  static_assert(sizeof(Slot) == 64);

  static Block ViewOf(const Slot& slot) {
    return Block(slot.data, slot.size, slot.num_records, slot.wide, slot.offsets);
  }

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

  // Takes the slot's entry out of the cache (the caller then reuses or removes the slot): the
  // pins still held move to the entry, and the cache's reference is dropped.
  void DropLocked(Slot* slot) {
    Entry* e = slot->entry;
    usage_ -= e->charge;
    Unlink(e);
    e->refs += slot->pins;
    slot->pins = 0;
    if (--e->refs == 0) delete e;
  }

  void RemoveLocked(size_t i) {
    DropLocked(&slots_[i]);
    RemoveSlot(i);
  }

  // Evicts from the old end until the shard fits. Each entry is passed over at most twice
  // (pinned, or referenced once), so the walk is bounded even when everything is pinned.
  void EvictLocked() {
    size_t budget = 2 * count_ + 1;
    while (usage_ > capacity_ && list_.next != &list_ && budget-- > 0) {
      Entry* e = list_.next;
      const size_t i = FindSlot(e->id, e->key);
      Slot& slot = slots_[i];
      if (slot.pins > 0 || slot.referenced) {
        slot.referenced = false;
        Unlink(e);
        Append(e);
      } else {
        RemoveLocked(i);
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
  mutable AdaptiveMutex mutex_;  // held for a slot lookup and a pin count: spin, not sleep
  std::vector<Slot> slots_;  // GUARDED_BY(mutex_); a power of two, at most half full
  size_t count_ = 0;         // GUARDED_BY(mutex_); occupied slots
  Entry list_;               // GUARDED_BY(mutex_); sentinel: next is the oldest entry
  size_t usage_ = 0;         // GUARDED_BY(mutex_)
};

BlockCache::Pin& BlockCache::Pin::operator=(Pin&& other) noexcept {
  if (this != &other) {
    Reset();
    shard_ = other.shard_;
    entry_ = other.entry_;
    id_ = other.id_;
    key_ = other.key_;
    view_ = std::move(other.view_);
    other.shard_ = nullptr;
    other.entry_ = nullptr;
  }
  return *this;
}

void BlockCache::Pin::Reset() {
  if (entry_ != nullptr) shard_->Release(entry_, id_, key_);
  shard_ = nullptr;
  entry_ = nullptr;
}

BlockCache::BlockCache(size_t capacity, int num_shard_bits) : capacity_(capacity) {
  if (num_shard_bits < 0) {
    num_shard_bits = 0;
    while (num_shard_bits < 6 && (capacity >> (num_shard_bits + 1)) >= (size_t{512} << 10)) {
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
