// Entry layout in the arena (the skiplist stores a pointer to its first byte):
//
//   varint32 internal_key_len | user_key | fixed64 (seq << 8 | type) | varint32 value_len | value
//
// The length prefixes let a bare pointer describe a whole entry, so a skiplist node costs that
// pointer, the user key's 8-byte prefix (memtable.h: EntryRef) and its links.

#include "engine/memtable.h"

#include <cassert>
#include <cstring>
#include <string>

#include "util/checksum.h"
#include "util/coding.h"

namespace learnkv {

namespace {

// Most lengths fit in one varint byte; skip the general decoder for those.
inline const char* DecodeLength(const char* p, uint32_t* len) {
  if ((static_cast<uint8_t>(*p) & 0x80) == 0) {
    *len = static_cast<uint8_t>(*p);
    return p + 1;
  }
  return GetVarint32Ptr(p, p + 5, len);
}

inline Slice GetLengthPrefixed(const char* p) {
  uint32_t len;
  p = DecodeLength(p, &len);
  return Slice(p, len);
}

inline uint64_t UserKeyPrefix(const Slice& user_key) {
  return OrderPrefix64(user_key.data(), user_key.size());
}

inline SequenceNumber ExtractSequence(const Slice& internal_key) {
  return DecodeFixed64(internal_key.end() - kInternalKeyTrailerSize) >> 8;
}

}  // namespace

int MemTable::KeyComparator::operator()(const EntryRef& a, const EntryRef& b) const {
  if (a.prefix != b.prefix) return a.prefix < b.prefix ? -1 : 1;
  return CompareInternalKeys(GetLengthPrefixed(a.entry), GetLengthPrefixed(b.entry));
}

// Holds a reference on its memtable for as long as it lives.
class MemTable::MemTableIterator final : public Iterator {
 public:
  explicit MemTableIterator(MemTable* mem) : mem_(mem), iter_(&mem->table_) { mem_->Ref(); }
  ~MemTableIterator() override { mem_->Unref(); }

  bool Valid() const override { return iter_.Valid(); }
  void SeekToFirst() override { iter_.SeekToFirst(); }
  void SeekToLast() override { iter_.SeekToLast(); }
  // REQUIRES: target is an internal key (for this and SeekForPrev).
  void Seek(const Slice& target) override { iter_.Seek(Encode(target)); }
  void SeekForPrev(const Slice& target) override { iter_.SeekForPrev(Encode(target)); }
  void Next() override {
    iter_.Next();
    // A flush reads every entry, and entries lie wherever they were allocated, so each is a
    // cache miss: start loading the next one while the caller consumes this one.
    if (iter_.Valid()) {
      if (const EntryRef* next = iter_.PeekNext()) __builtin_prefetch(next->entry);
    }
  }
  void Prev() override { iter_.Prev(); }
  Slice key() const override { return GetLengthPrefixed(iter_.key().entry); }
  Slice value() const override {
    const Slice k = key();
    return GetLengthPrefixed(k.data() + k.size());
  }
  Status status() const override { return Status::OK(); }

 private:
  // Reuses one buffer: an iterator seeks many times.
  EntryRef Encode(const Slice& target) {
    scratch_.clear();
    PutVarint32(&scratch_, static_cast<uint32_t>(target.size()));
    scratch_.append(target.data(), target.size());
    return {UserKeyPrefix(ExtractUserKey(target)), scratch_.data()};
  }

  MemTable* const mem_;
  Table::Iterator iter_;
  std::string scratch_;
};

namespace {
// One bucket per 128 bytes of expected data: the buckets add 1/16 to the memtable's memory,
// which counts against the write buffer.
uint64_t BucketCount(size_t expected_bytes) {
  uint64_t n = 16;
  while (n < expected_bytes / 128 && n < (uint64_t{1} << 30)) n <<= 1;
  return n;
}
}  // namespace

MemTable::MemTable(size_t expected_bytes)
    : table_(KeyComparator(), &node_arena_),
      bucket_mask_(BucketCount(expected_bytes) - 1),
      buckets_(new std::atomic<HashNode*>[bucket_mask_ + 1]) {
  for (uint64_t i = 0; i <= bucket_mask_; ++i) buckets_[i].store(nullptr, std::memory_order_relaxed);
}

MemTable::~MemTable() { assert(refs_.load(std::memory_order_relaxed) == 0); }

void MemTable::Unref() {
  const int before = refs_.fetch_sub(1, std::memory_order_acq_rel);
  assert(before > 0);
  if (before == 1) delete this;
}

size_t MemTable::ApproximateMemoryUsage() const {
  return arena_.MemoryUsage() + node_arena_.MemoryUsage() +
         (bucket_mask_ + 1) * sizeof(std::atomic<HashNode*>);
}

std::unique_ptr<Iterator> MemTable::NewIterator() {
  return std::make_unique<MemTableIterator>(this);
}

void MemTable::Add(SequenceNumber seq, ValueType type, const Slice& user_key, const Slice& value) {
  // The bucket head is a cache miss in a large memtable: start loading it now, so that it
  // overlaps the skiplist search instead of following it.
  const uint64_t hash = Hash64(user_key);
  std::atomic<HashNode*>& head = buckets_[hash & bucket_mask_];
  __builtin_prefetch(&head, /*rw=*/1);

  const size_t ikey_len = user_key.size() + kInternalKeyTrailerSize;
  assert(ikey_len <= UINT32_MAX && value.size() <= UINT32_MAX);
  const size_t encoded_len =
      VarintLength(ikey_len) + ikey_len + VarintLength(value.size()) + value.size();
  char* const buf = arena_.Allocate(encoded_len);
  char* p = EncodeVarint32(buf, static_cast<uint32_t>(ikey_len));
  std::memcpy(p, user_key.data(), user_key.size());
  p += user_key.size();
  EncodeFixed64(p, PackSequenceAndType(seq, type));
  p += kInternalKeyTrailerSize;
  p = EncodeVarint32(p, static_cast<uint32_t>(value.size()));
  std::memcpy(p, value.data(), value.size());
  assert(p + value.size() == buf + encoded_len);
  table_.Insert({UserKeyPrefix(user_key), buf});

  HashNode* node = reinterpret_cast<HashNode*>(arena_.AllocateAligned(sizeof(HashNode)));
  node->next = head.load(std::memory_order_relaxed);
  node->entry = buf;
  node->tag = static_cast<uint32_t>(hash >> 32);
  head.store(node, std::memory_order_release);
  num_entries_.fetch_add(1, std::memory_order_relaxed);
  if (type == kTypeDeletion) num_deletions_.fetch_add(1, std::memory_order_relaxed);
}

bool MemTable::Get(const Slice& lookup_internal_key, std::string* value, Status* s) const {
  // An empty memtable (the usual state of one just switched in, and of a read-mostly DB) would
  // still cost a cache miss on its bucket array. Safe without a lock: an entry the lookup's
  // sequence covers was counted before the writer published that sequence (release), which
  // the reader loaded (acquire) before calling.
  if (num_entries_.load(std::memory_order_relaxed) == 0) return false;
  const Slice user_key = ExtractUserKey(lookup_internal_key);
  const SequenceNumber snapshot = ExtractSequence(lookup_internal_key);
  const uint64_t hash = Hash64(user_key);
  const uint32_t tag = static_cast<uint32_t>(hash >> 32);
  // The newest version at or below the snapshot. Chains are newest first, so the first match
  // usually is it; the whole chain is still read, so the answer does not depend on the order
  // in which versions of a key were added.
  bool any = false;
  Slice found;
  SequenceNumber found_sequence = 0;
  for (const HashNode* n = buckets_[hash & bucket_mask_].load(std::memory_order_acquire);
       n != nullptr; n = n->next) {
    if (n->tag != tag) continue;
    const Slice entry_key = GetLengthPrefixed(n->entry);
    if (ExtractUserKey(entry_key) != user_key) continue;
    const SequenceNumber sequence = ExtractSequence(entry_key);
    if (sequence <= snapshot && (!any || sequence > found_sequence)) {
      any = true;
      found = entry_key;
      found_sequence = sequence;
    }
  }
  if (!any) return false;
  const uint8_t type = static_cast<uint8_t>(DecodeFixed64(found.end() - kInternalKeyTrailerSize));
  switch (type) {
    case kTypeValue: {
      const Slice v = GetLengthPrefixed(found.end());
      value->assign(v.data(), v.size());
      *s = Status::OK();
      return true;
    }
    case kTypeDeletion:
      *s = Status::NotFound(Slice());
      return true;
    default:
      *s = Status::NotSupported("memtable entry of type", std::to_string(type));
      return true;
  }
}

}  // namespace learnkv
