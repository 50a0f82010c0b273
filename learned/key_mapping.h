// Key mapping: turns byte-string keys into uint64 values that a numeric model can fit.
//
// A table's keys share a common prefix P (possibly empty). Map(k) strips P and reads the
// suffix as a mixed-radix number: digit i is the suffix's byte i clamped to [min_i, max_i]
// (the range the table's keys use at that position) minus min_i, with radix
// max_i - min_i + 1, over as many positions as fit in 64 bits. Keys of ASCII digits thus use
// all of the uint64 range instead of 10 of every 256 values per byte, so the mapped keys'
// CDF is smooth rather than stepped. Clamping keeps the order for keys outside the ranges:
//
//   * a byte below min_i makes digit i and every later digit 0;
//   * a byte above max_i makes digit i and every later digit the largest;
//   * a key that ends before position i has digit i and every later digit 0.
//
// The legacy mapping (the next 8 bytes big-endian, zero-padded on the right) is the special
// case radix 256 (min 0, max 255) at 8 positions. Keys that do not start with P map to 0 when
// they sort before every key with prefix P and to UINT64_MAX when they sort after, so
//
//   a < b  (bytewise)  =>  Map(a) <= Map(b)      for every pair of byte strings.
//
// Distinct keys may collide (equal digits); the learned index widens its error bounds to
// cover every run of colliding keys, so collisions cost speed, never correctness.
//
// Thread safety: KeyMapper is immutable after construction; const methods may be called
// concurrently. KeyMapperBuilder is single-threaded.
#ifndef LEARNKV_LEARNED_KEY_MAPPING_H_
#define LEARNKV_LEARNED_KEY_MAPPING_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "learnkv/slice.h"
#include "learnkv/status.h"

namespace learnkv {

class KeyMapper {
 public:
  // Positions after the prefix that a mixed-radix mapping may read (16 radix-10 digits fit).
  static constexpr size_t kMaxDigits = 16;

  // The legacy mapping over the first 8 bytes (empty prefix).
  KeyMapper() = default;
  // The legacy mapping after common_prefix.
  explicit KeyMapper(const Slice& common_prefix) : prefix_(common_prefix.ToString()) {}

  // The legacy mapper for a sorted key set whose smallest and largest keys are given: the
  // common prefix of those two is the common prefix of every key between them.
  static KeyMapper ForRange(const Slice& smallest, const Slice& largest);

  // A mixed-radix mapper: position i after the prefix takes bytes [min[i], max[i]]. Uses the
  // leading positions whose radices multiply to at most 2^64 (at most kMaxDigits); when those
  // are 8 positions of radix 256 the result is the legacy mapping. REQUIRES: min[i] <= max[i].
  static KeyMapper MixedRadix(const Slice& common_prefix, const uint8_t* min, const uint8_t* max,
                              size_t num_positions);

  uint64_t Map(const Slice& key) const {
    if (!key.starts_with(prefix_)) return MapOutside(key);
    return MapSuffix(reinterpret_cast<const uint8_t*>(key.data()) + prefix_.size(),
                     key.size() - prefix_.size());
  }

  // Map of a key whose suffix after the prefix is suffix[0, n).
  uint64_t MapSuffix(const uint8_t* suffix, size_t n) const;

  const std::string& prefix() const { return prefix_; }
  // Whether this is the legacy 8-byte big-endian mapping.
  bool legacy() const { return !mixed_; }
  // Positions the mapping reads (8 for the legacy one).
  size_t num_digits() const { return mixed_ ? num_digits_ : 8; }

  // Serialized form. Legacy: varint32 prefix length | prefix bytes. Mixed radix (version 2):
  // 0x80 0x00 (a non-canonical varint, which no legacy encoding starts with) | u8 version 2 |
  // varint32 prefix length | prefix bytes | u8 digit count K (<= kMaxDigits) | K x (u8 min,
  // u8 max). A mixed-radix mapper equal to the legacy one is written in the legacy form.
  void EncodeTo(std::string* dst) const;
  // Consumes the encoding from the front of *input. Corruption if it is malformed.
  static Status DecodeFrom(Slice* input, KeyMapper* mapper);

 private:
  struct Digit {
    uint8_t min = 0;
    uint16_t radix = 1;  // max - min + 1
    uint64_t weight = 1;  // product of the later radices
  };

  uint64_t MapOutside(const Slice& key) const;

  std::string prefix_;
  bool mixed_ = false;  // false: the legacy mapping (no digits_)
  uint8_t num_digits_ = 0;
  std::array<Digit, kMaxDigits> digits_;
};

// Collects a sorted key set's mapping while its keys stream by, and maps them all at the end,
// when the common prefix and the byte ranges are known. Memory: 16 bytes per key, in chunks
// (no reallocation copies), released as Finish converts them.
class KeyMapperBuilder {
 public:
  KeyMapperBuilder() = default;
  KeyMapperBuilder(const KeyMapperBuilder&) = delete;
  KeyMapperBuilder& operator=(const KeyMapperBuilder&) = delete;

  // REQUIRES: key >= every key added before (bytewise).
  void Add(const Slice& key);
  uint64_t num_keys() const { return num_keys_; }
  // The common prefix length of the keys added so far.
  size_t prefix_len() const { return prefix_len_; }
  // Drops every key (e.g. when there are too many for a model).
  void Clear();

  // The mapper of the keys added, and their mapped values in order (monotone, as Map would
  // give them). Leaves the builder empty.
  KeyMapper Finish(std::vector<uint64_t>* mapped);

 private:
  static constexpr size_t kWidth = KeyMapper::kMaxDigits;  // bytes kept per key
  static constexpr size_t kChunkKeys = size_t{1} << 16;

  std::string first_key_;
  size_t prefix_len_ = 0;
  uint64_t num_keys_ = 0;
  size_t max_key_len_ = 0;
  // (first key index, prefix length) of each run of keys kept under one prefix length; a
  // key's kWidth bytes start at its run's prefix length.
  std::vector<std::pair<uint64_t, size_t>> runs_;
  std::vector<std::unique_ptr<uint8_t[]>> chunks_;  // kChunkKeys x kWidth bytes each
  // Smallest and largest byte seen at each position of the key (absolute; sized
  // |first key| + kWidth, which covers [final prefix, final prefix + kWidth)).
  std::vector<uint8_t> min_, max_;
};

}  // namespace learnkv

#endif  // LEARNKV_LEARNED_KEY_MAPPING_H_
