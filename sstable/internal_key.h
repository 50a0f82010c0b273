// Internal keys, as in LevelDB and RocksDB: user key ++ 8-byte little-endian trailer
// (sequence << 8 | type). Ordered by user key ascending (bytewise), then trailer descending,
// i.e. newest version first. One table format therefore serves learnkv's engine and the
// RocksDB table-format adapter, whose internal keys have the same layout.
//
// Thread safety: pure functions and value types.
#ifndef LEARNKV_SSTABLE_INTERNAL_KEY_H_
#define LEARNKV_SSTABLE_INTERNAL_KEY_H_

#include <cstdint>
#include <string>

#include "learnkv/slice.h"
#include "util/coding.h"

namespace learnkv {

// Persistent: stored in tables and the WAL. Values equal RocksDB's for the shared kinds.
enum ValueType : uint8_t {
  kTypeDeletion = 0x0,
  kTypeValue = 0x1,
  kTypeMerge = 0x2,
  kTypeRangeDeletion = 0xF,
};
// The type that sorts first among entries with the same user key and sequence, for seeks.
constexpr ValueType kValueTypeForSeek = kTypeRangeDeletion;

using SequenceNumber = uint64_t;
constexpr SequenceNumber kMaxSequenceNumber = (uint64_t{1} << 56) - 1;
constexpr size_t kInternalKeyTrailerSize = 8;

inline uint64_t PackSequenceAndType(SequenceNumber seq, ValueType t) {
  return (seq << 8) | t;
}

struct ParsedInternalKey {
  Slice user_key;
  SequenceNumber sequence = 0;
  ValueType type = kTypeValue;
};

inline void AppendInternalKey(std::string* dst, const Slice& user_key, SequenceNumber seq,
                              ValueType t) {
  dst->append(user_key.data(), user_key.size());
  PutFixed64(dst, PackSequenceAndType(seq, t));
}

inline Slice ExtractUserKey(const Slice& internal_key) {
  return Slice(internal_key.data(), internal_key.size() - kInternalKeyTrailerSize);
}

// False if the key is too short to hold a trailer.
inline bool ParseInternalKey(const Slice& internal_key, ParsedInternalKey* result) {
  if (internal_key.size() < kInternalKeyTrailerSize) return false;
  const uint64_t trailer = DecodeFixed64(internal_key.data() + internal_key.size() - 8);
  result->user_key = ExtractUserKey(internal_key);
  result->sequence = trailer >> 8;
  result->type = static_cast<ValueType>(trailer & 0xff);
  return true;
}

// <0, 0, >0: user keys ascending, then trailers descending. REQUIRES: both hold a trailer.
inline int CompareInternalKeys(const Slice& a, const Slice& b) {
  int r = ExtractUserKey(a).compare(ExtractUserKey(b));
  if (r == 0) {
    const uint64_t ta = DecodeFixed64(a.data() + a.size() - 8);
    const uint64_t tb = DecodeFixed64(b.data() + b.size() - 8);
    r = ta > tb ? -1 : (ta < tb ? +1 : 0);
  }
  return r;
}

// The key a point lookup of user_key at snapshot seq seeks to: the first entry for user_key
// visible at seq.
class LookupKey {
 public:
  LookupKey(const Slice& user_key, SequenceNumber seq) {
    AppendInternalKey(&key_, user_key, seq, kValueTypeForSeek);
  }
  Slice internal_key() const { return key_; }
  Slice user_key() const { return ExtractUserKey(key_); }

 private:
  std::string key_;
};

}  // namespace learnkv

#endif  // LEARNKV_SSTABLE_INTERNAL_KEY_H_
