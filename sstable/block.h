// Block: one uncompressed record block (layout in block_builder.cc), validated once when it is
// read so that every later access — on the lookup hot path — can skip bounds checks.
// LookupTarget: an internal key split once into user key and trailer for cheap comparisons.
//
// Thread safety: a Block is immutable after Parse; const methods may be called concurrently
// (blocks are shared through the block cache).
#ifndef LEARNKV_SSTABLE_BLOCK_H_
#define LEARNKV_SSTABLE_BLOCK_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include "learnkv/slice.h"
#include "learnkv/status.h"
#include "sstable/format.h"
#include "sstable/internal_key.h"
#include "util/coding.h"

namespace learnkv {

// An internal key split into its user key and trailer. A "key" shorter than a trailer is
// taken as a bare user key with the largest trailer, i.e. before every entry of that user key.
struct LookupTarget {
  Slice user_key;
  uint64_t trailer = UINT64_MAX;

  static LookupTarget FromInternalKey(const Slice& internal_key) {
    LookupTarget t;
    if (internal_key.size() < kInternalKeyTrailerSize) {
      t.user_key = internal_key;
    } else {
      t.user_key = ExtractUserKey(internal_key);
      t.trailer = DecodeFixed64(internal_key.end() - kInternalKeyTrailerSize);
    }
    return t;
  }
};

// <0, 0, >0 as the stored internal key (REQUIRES: size >= 8) sorts before, equal to or after t.
inline int CompareToTarget(const Slice& internal_key, const LookupTarget& t) {
  const int r = ExtractUserKey(internal_key).compare(t.user_key);
  if (r != 0) return r;
  const uint64_t trailer = DecodeFixed64(internal_key.end() - kInternalKeyTrailerSize);
  return trailer > t.trailer ? -1 : (trailer < t.trailer ? +1 : 0);
}

class Block {
 public:
  // An empty block (no records). Blocks are movable so that the cache can hold them inline in
  // its entries: one pointer fewer to chase on every lookup.
  Block() = default;
  Block(Block&&) noexcept = default;
  Block& operator=(Block&&) noexcept = default;
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  // Takes the contents and checks the whole layout: count, offset array monotone and inside
  // the block, every record's lengths exactly filling its slot, and, with internal_keys, every
  // key long enough to hold a trailer. Corruption names file_name and offset (the block's).
  static Status Parse(BlockContents contents, bool internal_keys, const std::string& file_name,
                      uint64_t offset, Block* result);

  uint32_t num_records() const { return num_records_; }
  const char* data() const { return data_; }
  // Bytes held (the cache's charge).
  size_t size() const { return size_; }

  // REQUIRES: i < num_records(). The slices point into the block.
  void RecordAt(uint32_t i, Slice* key, Slice* value) const {
    const char* p = data_ + OffsetOf(i);
    uint32_t key_len, value_len;
    p = DecodeLengths(p, &key_len, &value_len);
    *key = Slice(p, key_len);
    *value = Slice(p + key_len, value_len);
  }
  Slice KeyAt(uint32_t i) const {
    const char* p = data_ + OffsetOf(i);
    uint32_t key_len, value_len;
    p = DecodeLengths(p, &key_len, &value_len);
    return Slice(p, key_len);
  }

  // The first i in [begin, end) whose internal key is >= t, or end.
  // REQUIRES: an internal-key block, begin <= end <= num_records().
  uint32_t LowerBound(const LookupTarget& t, uint32_t begin, uint32_t end) const {
    uint32_t count = end - begin;
    while (count > 0) {
      const uint32_t half = count / 2;
      const uint32_t mid = begin + half;
      if (CompareToTarget(KeyAt(mid), t) < 0) {
        begin = mid + 1;
        count -= half + 1;
      } else {
        count = half;
      }
    }
    return begin;
  }

  // The same answer as LowerBound(t, begin, end), searched outward from `hint` (a predicted
  // position): the hint's key first, then keys 1, 2, 4, ... records away toward the answer,
  // then a binary search between the last two probes. A prediction d records off costs about
  // 2 log2(d) + 1 comparisons, all near the hint. REQUIRES: begin <= hint < end.
  uint32_t LowerBoundFrom(const LookupTarget& t, uint32_t begin, uint32_t end,
                          uint32_t hint) const {
    uint32_t lo, hi;  // the answer lies in [lo, hi]; keys before lo are < t, hi's is >= t
    if (CompareToTarget(KeyAt(hint), t) < 0) {
      lo = hint + 1;
      hi = end;
      for (uint32_t step = 1; lo < end; step *= 2) {
        const uint32_t probe = std::min(end - 1, hint + step);
        if (CompareToTarget(KeyAt(probe), t) >= 0) {
          hi = probe;
          break;
        }
        lo = probe + 1;
      }
    } else {
      lo = begin;
      hi = hint;
      for (uint32_t step = 1; hi > begin; step *= 2) {
        const uint32_t probe = hint - begin <= step ? begin : hint - step;
        if (CompareToTarget(KeyAt(probe), t) < 0) {
          lo = probe + 1;
          break;
        }
        hi = probe;
      }
    }
    return LowerBound(t, lo, hi);
  }

  // Fetches the records LowerBoundFrom(t, begin, end, hint) probes first: the hint's and its
  // neighbours'.
  void PrefetchAround(uint32_t begin, uint32_t end, uint32_t hint) const {
    const uint32_t from = hint - std::min(hint - begin, 2u);
    const uint32_t to = std::min(end, hint + 3);
    for (uint32_t k = from; k < to; ++k) __builtin_prefetch(data_ + OffsetOf(k));
  }

  // Asks the CPU to fetch what LowerBound(t, begin, end) will read first. A binary search's
  // probes are otherwise dependent cache misses on a block that is not in the CPU cache;
  // fetching them up front lets them overlap (and a learned window narrower than the block
  // has its probes closer together).
  void Prefetch(uint32_t begin, uint32_t end) const {
    // The start of (up to 32, evenly spaced) records of the range: the lines the binary
    // search may probe. The offsets were fetched along with the block's cache entry.
    const uint32_t n = end - begin;
    if (n <= 2) return;
    const uint32_t step = n <= 32 ? 1 : n / 32;
    for (uint32_t k = begin; k < end; k += step) __builtin_prefetch(data_ + OffsetOf(k));
  }
  // Where a lookup in this block starts reading: its record offsets.
  const char* PrefetchHint() const { return offsets_; }

  // For meta blocks keyed by name: the value of the record whose key equals `key`.
  bool Find(const Slice& key, Slice* value) const;

 private:
  // The block cache keeps a block's fields in its slots and hands out non-owning views of it,
  // so that a hit need not read the entry that owns the block (block_cache.cc).
  friend class BlockCache;

  Block(BlockContents contents, uint32_t num_records, bool wide, size_t records_end);
  // A non-owning view of a parsed block from its fields. REQUIRES: that block outlives it.
  Block(const char* data, size_t size, uint32_t num_records, bool wide, const char* offsets)
      : data_(data), size_(size), num_records_(num_records), wide_(wide), offsets_(offsets) {}

  uint32_t OffsetOf(uint32_t i) const {
    return wide_ ? DecodeFixed32(offsets_ + 4 * size_t{i})
                 : DecodeFixed16(offsets_ + 2 * size_t{i});
  }
  // Parse validated every record, so the lengths are decoded without limits: one-byte
  // varints (keys and values under 128 bytes) take the fast path.
  static const char* DecodeLengths(const char* p, uint32_t* key_len, uint32_t* value_len) {
    const uint8_t a = static_cast<uint8_t>(p[0]), b = static_cast<uint8_t>(p[1]);
    if (((a | b) & 0x80) == 0) {
      *key_len = a;
      *value_len = b;
      return p + 2;
    }
    p = GetVarint32Ptr(p, p + 5, key_len);
    return GetVarint32Ptr(p, p + 5, value_len);
  }

  std::unique_ptr<char[]> owned_;  // null for a view
  const char* data_ = nullptr;
  size_t size_ = 0;
  uint32_t num_records_ = 0;
  bool wide_ = false;
  const char* offsets_ = nullptr;  // into data_
};

}  // namespace learnkv

#endif  // LEARNKV_SSTABLE_BLOCK_H_
