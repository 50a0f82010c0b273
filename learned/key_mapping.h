// Key mapping: turns byte-string keys into uint64 values that a numeric model can fit.
//
// A table's keys share a common prefix P (possibly empty). Map(k) strips P and reads the next
// 8 bytes big-endian, zero-padded on the right. Keys that do not start with P map to 0 when
// they sort before every key with prefix P and to UINT64_MAX when they sort after, so
//
//   a < b  (bytewise)  =>  Map(a) <= Map(b)      for every pair of byte strings.
//
// Distinct keys may collide (equal first 8 bytes after P); the learned index widens its error
// bounds to cover every run of colliding keys, so collisions cost speed, never correctness.
//
// Thread safety: immutable after construction; const methods may be called concurrently.
#ifndef LEARNKV_LEARNED_KEY_MAPPING_H_
#define LEARNKV_LEARNED_KEY_MAPPING_H_

#include <cstdint>
#include <string>

#include "learnkv/slice.h"
#include "learnkv/status.h"

namespace learnkv {

class KeyMapper {
 public:
  // The identity mapping over the first 8 bytes (empty prefix).
  KeyMapper() = default;
  explicit KeyMapper(const Slice& common_prefix) : prefix_(common_prefix.ToString()) {}

  // The mapper for a sorted key set whose smallest and largest keys are given: the common
  // prefix of those two is the common prefix of every key between them.
  static KeyMapper ForRange(const Slice& smallest, const Slice& largest);

  uint64_t Map(const Slice& key) const;

  const std::string& prefix() const { return prefix_; }

  // Serialized form: length-prefixed prefix bytes.
  void EncodeTo(std::string* dst) const;
  // Consumes the encoding from the front of *input. Corruption if it is malformed.
  static Status DecodeFrom(Slice* input, KeyMapper* mapper);

 private:
  std::string prefix_;
};

}  // namespace learnkv

#endif  // LEARNKV_LEARNED_KEY_MAPPING_H_
