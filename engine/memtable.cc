// Entry layout in the arena (the skiplist stores a pointer to its first byte):
//
//   varint32 internal_key_len | user_key | fixed64 (seq << 8 | type) | varint32 value_len | value
//
// The length prefixes let a bare pointer describe a whole entry, so a skiplist node costs one
// pointer plus its links.

#include "engine/memtable.h"

#include <cassert>
#include <cstring>
#include <string>

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

// An internal key in the entry encoding, for comparing against entries. Kept on the stack
// unless the key is long.
class SeekTarget {
 public:
  explicit SeekTarget(const Slice& internal_key) {
    const size_t need = 5 + internal_key.size();
    char* dst = space_;
    if (need > sizeof(space_)) {
      heap_ = std::make_unique<char[]>(need);
      dst = heap_.get();
    }
    char* p = EncodeVarint32(dst, static_cast<uint32_t>(internal_key.size()));
    std::memcpy(p, internal_key.data(), internal_key.size());
    data_ = dst;
  }
  const char* data() const { return data_; }

 private:
  char space_[160];
  std::unique_ptr<char[]> heap_;
  const char* data_;
};

}  // namespace

int MemTable::KeyComparator::operator()(const char* a, const char* b) const {
  return CompareInternalKeys(GetLengthPrefixed(a), GetLengthPrefixed(b));
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
  void Next() override { iter_.Next(); }
  void Prev() override { iter_.Prev(); }
  Slice key() const override { return GetLengthPrefixed(iter_.key()); }
  Slice value() const override {
    const Slice k = key();
    return GetLengthPrefixed(k.data() + k.size());
  }
  Status status() const override { return Status::OK(); }

 private:
  // Reuses one buffer: an iterator seeks many times.
  const char* Encode(const Slice& target) {
    scratch_.clear();
    PutVarint32(&scratch_, static_cast<uint32_t>(target.size()));
    scratch_.append(target.data(), target.size());
    return scratch_.data();
  }

  MemTable* const mem_;
  Table::Iterator iter_;
  std::string scratch_;
};

MemTable::MemTable() : table_(KeyComparator(), &arena_) {}

MemTable::~MemTable() { assert(refs_.load(std::memory_order_relaxed) == 0); }

void MemTable::Unref() {
  const int before = refs_.fetch_sub(1, std::memory_order_acq_rel);
  assert(before > 0);
  if (before == 1) delete this;
}

size_t MemTable::ApproximateMemoryUsage() const { return arena_.MemoryUsage(); }

std::unique_ptr<Iterator> MemTable::NewIterator() {
  return std::make_unique<MemTableIterator>(this);
}

void MemTable::Add(SequenceNumber seq, ValueType type, const Slice& user_key, const Slice& value) {
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
  table_.Insert(buf);
  num_entries_.fetch_add(1, std::memory_order_relaxed);
  if (type == kTypeDeletion) num_deletions_.fetch_add(1, std::memory_order_relaxed);
}

bool MemTable::Get(const Slice& lookup_internal_key, std::string* value, Status* s) const {
  const SeekTarget target(lookup_internal_key);
  Table::Iterator iter(&table_);
  iter.Seek(target.data());
  if (!iter.Valid()) return false;
  // The first entry at or after the lookup key is the newest visible version of the user
  // key, if the user key matches at all.
  const Slice found = GetLengthPrefixed(iter.key());
  if (ExtractUserKey(found) != ExtractUserKey(lookup_internal_key)) return false;
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
