// MemTable: the in-memory, sorted buffer of recent writes, ordered by internal key (user key
// ascending, then newest first). Entries are copied into an Arena and indexed twice: by a
// SkipList, for order (iterators, flush), and by a chained hash table over user keys, for
// point lookups. A skiplist search costs a cache miss per level — about 25 in a 64 MiB
// memtable — where a hash lookup costs two or three. Nothing is removed until the whole
// memtable is dropped after its flush to a table.
//
// Thread safety: Add needs external synchronization (one writer at a time, the group-commit
// leader). Get, NewIterator and the counters may be called concurrently with Add and with
// each other, without locks. Ref/Unref are atomic; the last Unref deletes the memtable.
#ifndef LEARNKV_ENGINE_MEMTABLE_H_
#define LEARNKV_ENGINE_MEMTABLE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/skiplist.h"
#include "learnkv/iterator.h"
#include "learnkv/slice.h"
#include "learnkv/status.h"
#include "sstable/internal_key.h"
#include "util/arena.h"

namespace learnkv {

class MemTable {
 public:
  // Starts with a reference count of zero; the creator calls Ref(). expected_bytes (the
  // write-buffer size) sizes the hash index: one bucket per 128 bytes, a power of two.
  explicit MemTable(size_t expected_bytes);
  MemTable(const MemTable&) = delete;
  MemTable& operator=(const MemTable&) = delete;

  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  // Deletes the memtable when the last reference goes.
  void Unref();

  // Bytes of memory the memtable holds; the write path flushes when it passes the
  // write-buffer size.
  size_t ApproximateMemoryUsage() const;

  // An iterator over internal keys (key() is an internal key, value() the value; deletions
  // appear with an empty value). It holds a reference, so it may outlive the caller's.
  std::unique_ptr<Iterator> NewIterator();

  // Adds user_key at sequence seq: a value (type kTypeValue) or a deletion (kTypeDeletion,
  // value empty). REQUIRES: external synchronization with other Adds; (user_key, seq) not
  // added before; user_key shorter than 4 GiB - 8 bytes.
  void Add(SequenceNumber seq, ValueType type, const Slice& user_key, const Slice& value);

  // Looks up the newest entry for key.user_key() with a sequence number <= the lookup's.
  // Returns true if the memtable decides the answer: a value (stored in *value, *s OK) or a
  // deletion (*s NotFound). Returns false, leaving both untouched, if the memtable holds no
  // entry for the key at that snapshot, so older data must be consulted.
  bool Get(const LookupKey& key, std::string* value, Status* s) const {
    return Get(key.internal_key(), value, s);
  }
  // The same for a lookup key already encoded as an internal key (user key, seq,
  // kValueTypeForSeek), which the DB's read path keeps on the stack.
  bool Get(const Slice& lookup_internal_key, std::string* value, Status* s) const;

  uint64_t num_entries() const { return num_entries_.load(std::memory_order_relaxed); }
  uint64_t num_deletions() const { return num_deletions_.load(std::memory_order_relaxed); }

 private:
  // A skiplist key: an encoded entry (see memtable.cc) and the first 8 bytes of its user key
  // as a big-endian integer (zero-padded). Unequal prefixes order two entries exactly as their
  // user keys do, so most comparisons of a search are decided inside the node, without the
  // cache miss of dereferencing the entry.
  struct EntryRef {
    uint64_t prefix = 0;
    const char* entry = nullptr;
  };
  struct KeyComparator {
    int operator()(const EntryRef& a, const EntryRef& b) const;
  };
  using Table = SkipList<EntryRef, KeyComparator>;
  class MemTableIterator;

  // A link of a hash chain, in the arena. Chains grow at the head, so each is newest first.
  struct HashNode {
    HashNode* next;
    const char* entry;
    uint32_t tag;  // high bits of the user key's hash: most mismatches skip the entry
  };

  ~MemTable();  // only Unref deletes

  std::atomic<int> refs_{0};
  std::atomic<uint64_t> num_entries_{0};
  std::atomic<uint64_t> num_deletions_{0};
  Arena arena_;  // entries and hash nodes
  // The skiplist's nodes, apart from the entries: a search reads nodes only (the key prefix
  // in each decides most comparisons), and packed together they take a fraction of the
  // memtable's bytes, so far more of a search's path stays in the CPU caches.
  Arena node_arena_;
  Table table_;
  // Bucket heads. Add publishes a node with a release store; Get reads with acquire loads.
  const uint64_t bucket_mask_;
  const std::unique_ptr<std::atomic<HashNode*>[]> buckets_;
};

}  // namespace learnkv

#endif  // LEARNKV_ENGINE_MEMTABLE_H_
