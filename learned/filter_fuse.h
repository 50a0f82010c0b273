// FuseFilter: a 3-wise binary fuse filter over 64-bit key hashes (Graf and Lemire, "Binary
// Fuse Filters: Fast and Smaller Than Xor Filters", ACM JEA 2022), with fingerprints of any
// width from 1 to 16 bits, bit-packed. A filter over n keys with r-bit fingerprints takes
// about 1.13 r bits per key for large n (more for small n: the size factor grows as n
// shrinks) and has a false-positive rate of 2^-r: 8 bits give 0.39%, 7 bits 0.78%.
//
// A key's three slots lie in three consecutive segments of a power-of-two length; the filter
// stores in each slot a value such that the XOR of a key's three slots equals its fingerprint.
// Building peels the 3-hypergraph of keys and slots (keys are removed from slots they alone
// occupy, then assigned in reverse order); a rare failure retries with another seed.
//
// Variable widths let the learned filter (filter_learned.h) give each score region exactly the
// false-positive rate it needs.
//
// Thread safety: immutable after Build/DecodeFrom; const methods may be called concurrently.
#ifndef LEARNKV_LEARNED_FILTER_FUSE_H_
#define LEARNKV_LEARNED_FILTER_FUSE_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "learned/filter_hash.h"
#include "learnkv/slice.h"
#include "learnkv/status.h"

namespace learnkv {

class FuseFilter {
 public:
  static constexpr int kMaxBits = 16;
  static constexpr uint32_t kMaxSegmentLength = uint32_t{1} << 18;
  // Bounds what a decoded filter may allocate (2^31 slots of up to 16 bits = 4 GiB).
  static constexpr uint64_t kMaxSlots = uint64_t{1} << 31;

  FuseFilter() = default;

  // A filter over the distinct values among hashes (duplicates are dropped) with bits-bit
  // fingerprints. An empty set gives a filter that contains nothing. REQUIRES: 1 <= bits <= 16.
  static FuseFilter Build(std::vector<uint64_t> hashes, int bits);

  bool MayContain(uint64_t hash) const {
    if (segment_count_length_ == 0) return false;
    const uint64_t h = Remix64(hash + seed_);
    uint32_t s0, s1, s2;
    Slots(h, &s0, &s1, &s2);
    return ((Fingerprint(h) ^ Get(s0) ^ Get(s1) ^ Get(s2)) & mask_) == 0;
  }

  int bits() const { return bits_; }
  uint64_t num_slots() const { return array_length_; }
  size_t MemoryUsage() const { return packed_.size() + sizeof(*this); }

  // u8 bits | fixed64 seed | varint32 segment length L (a power of two <= 2^18, or 0 for the
  // empty filter) | varint32 segment count S | ceil((S + 2) L bits / 8) bytes of slots.
  void EncodeTo(std::string* dst) const;
  // Consumes the encoding from the front of *input; Corruption if malformed.
  static Status DecodeFrom(Slice* input, FuseFilter* filter);
  // Bytes of the encoding of a filter over n distinct keys with bits-bit fingerprints (exact
  // unless construction needs to grow the array, which is rare).
  static size_t EncodedBytes(size_t n, int bits);

 private:
  struct Shape {
    uint32_t segment_length = 0;
    uint32_t segment_count = 0;
  };
  static Shape ShapeFor(size_t n);

  void SetShape(const Shape& shape, int bits);
  void Slots(uint64_t h, uint32_t* s0, uint32_t* s1, uint32_t* s2) const {
    const uint32_t first = static_cast<uint32_t>(MulHi64(h, segment_count_length_));
    *s0 = first;
    *s1 = (first + segment_length_) ^ (static_cast<uint32_t>(h >> 18) & segment_mask_);
    *s2 = (first + 2 * segment_length_) ^ (static_cast<uint32_t>(h) & segment_mask_);
  }
  static uint32_t Fingerprint(uint64_t h) { return static_cast<uint32_t>(h ^ (h >> 32)); }
  uint32_t Get(uint32_t slot) const {
    const uint64_t bit = static_cast<uint64_t>(slot) * bits_;
    uint64_t word;
    memcpy(&word, packed_.data() + (bit >> 3), 8);
    return static_cast<uint32_t>(word >> (bit & 7));
  }
  // One attempt at peeling and assigning; false if the hypergraph does not peel.
  bool TryBuild(const std::vector<uint64_t>& hashes, std::vector<uint16_t>* slots);

  uint64_t seed_ = 0;
  uint32_t segment_length_ = 0;
  uint32_t segment_mask_ = 0;
  uint32_t segment_count_ = 0;
  uint32_t segment_count_length_ = 0;  // segment_count_ * segment_length_
  uint64_t array_length_ = 0;          // (segment_count_ + 2) * segment_length_
  int bits_ = 8;
  uint32_t mask_ = 0xff;
  std::vector<uint8_t> packed_;  // array_length_ slots of bits_ bits, then 8 zero bytes
};

// A fuse filter of fractional fingerprint width w = r + j/8 bits (0 <= r < 16, 0 <= j < 8):
// each key's hash sends it, with probability j/8, to a filter of (r + 1)-bit fingerprints and
// otherwise to one of r-bit fingerprints (none when r = 0: those keys are always reported
// present). Its false-positive rate (j/8) 2^-(r+1) + (1 - j/8) 2^-r interpolates between
// integer widths at an interpolated cost, so a filter can be sized to any target rate instead
// of the next power of two (which wastes up to a bit per key). Width 0 accepts everything.
//
// Thread safety: as FuseFilter.
class FractionalFuseFilter {
 public:
  static constexpr int kMaxEighths = 8 * FuseFilter::kMaxBits;

  FractionalFuseFilter() = default;

  // A filter of width eighths/8 bits over the distinct values among hashes.
  // REQUIRES: 0 <= eighths <= kMaxEighths.
  static FractionalFuseFilter Build(const std::vector<uint64_t>& hashes, int eighths);

  bool MayContain(uint64_t hash) const {
    const bool wide = SplitValue(hash) < static_cast<unsigned>(eighths_ & 7);
    if (wide) return wide_.MayContain(hash);
    return (eighths_ >> 3) == 0 || narrow_.MayContain(hash);
  }

  int eighths() const { return eighths_; }
  size_t MemoryUsage() const { return narrow_.MemoryUsage() + wide_.MemoryUsage(); }

  // The false-positive rate of a width of eighths/8 bits.
  static double Fpr(int eighths);
  // The smallest width (in eighths) whose Fpr is at most fpr (kMaxEighths if none is).
  static int EighthsFor(double fpr);
  // Bytes of the encoding over n keys (expected: the split is by hash).
  static size_t EncodedBytes(size_t n, int eighths);

  // Which of the two filters a key goes to: the wide one iff SplitValue(hash) < j. In [0, 8).
  static unsigned SplitValue(uint64_t hash) {
    return static_cast<unsigned>(Remix64(hash ^ kSplitSalt) >> 61);
  }
  // Bytes of the encoding Build gives distinct keys of which split_counts[v] have
  // SplitValue v: exact, unless a fuse filter had to grow after repeated failed builds (rare,
  // and only ever larger). Lets a builder compare layouts without building them.
  static size_t EncodedBytes(const uint64_t split_counts[8], int eighths);

  // u8 eighths | [narrow FuseFilter, when r >= 1] | [wide FuseFilter, when j >= 1].
  void EncodeTo(std::string* dst) const;
  static Status DecodeFrom(Slice* input, FractionalFuseFilter* filter);

 private:
  static constexpr uint64_t kSplitSalt = 0x510e527fade682d1ull;

  int eighths_ = 0;
  FuseFilter narrow_;  // r bits (absent when r == 0)
  FuseFilter wide_;    // r + 1 bits (absent when j == 0)
};

}  // namespace learnkv

#endif  // LEARNKV_LEARNED_FILTER_FUSE_H_
