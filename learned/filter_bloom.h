// BloomFilter: a cache-local blocked Bloom filter over 64-bit key hashes (Putze, Sanders and
// Singler, "Cache-, Hash- and Space-Efficient Bloom Filters", WEA 2007). Each key sets k bits
// inside one 512-bit (64-byte, one cache line) block chosen by its hash, so a probe touches
// one cache line; the price is a slightly higher false-positive rate than a standard Bloom
// filter at the same size, which ExpectedFpr models exactly (Poisson block loads).
//
// It is the classic baseline of the learned filter (filter_learned.h) and the classic filter
// of tables whose keys are few (a binary fuse filter has a fixed overhead).
//
// Thread safety: immutable after Build/DecodeFrom; const methods may be called concurrently.
#ifndef LEARNKV_LEARNED_FILTER_BLOOM_H_
#define LEARNKV_LEARNED_FILTER_BLOOM_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "learnkv/slice.h"
#include "learnkv/status.h"

namespace learnkv {

class BloomFilter {
 public:
  static constexpr uint32_t kBlockBits = 512;
  static constexpr int kMaxProbes = 24;
  // Bounds what a decoded filter may allocate (2^26 blocks = 4 GiB).
  static constexpr uint32_t kMaxBlocks = uint32_t{1} << 26;

  BloomFilter() = default;
  BloomFilter(BloomFilter&&) = default;
  BloomFilter& operator=(BloomFilter&&) = default;

  // A filter over hashes[0, n) with bits_per_key bits per key (at least one block) and
  // num_probes bits set per key (0: the best count for bits_per_key).
  static BloomFilter Build(const uint64_t* hashes, size_t n, double bits_per_key,
                           int num_probes = 0);

  bool MayContain(uint64_t hash) const {
    if (num_blocks_ == 0) return false;
    const uint64_t* block =
        words_.get() + 8 * static_cast<size_t>(FastRange(static_cast<uint32_t>(hash >> 32)));
    uint32_t h = static_cast<uint32_t>(hash);
    for (int i = 0; i < num_probes_; ++i) {
      const uint32_t bit = h >> 23;  // 9 bits: a position in the block
      if ((block[bit >> 6] & (uint64_t{1} << (bit & 63))) == 0) return false;
      h *= 0x9e3779b9u;  // the next position: golden-ratio multiplicative rehash
    }
    return true;
  }

  uint32_t num_blocks() const { return num_blocks_; }
  int num_probes() const { return num_probes_; }
  size_t MemoryUsage() const { return size_t{64} * num_blocks_ + sizeof(*this); }

  // varint32 num_blocks | u8 num_probes | num_blocks x 64 bytes (the bits, little-endian words).
  void EncodeTo(std::string* dst) const;
  // Consumes the encoding from the front of *input; Corruption if malformed.
  static Status DecodeFrom(Slice* input, BloomFilter* filter);
  // Bytes of the encoding of a filter over n keys at bits_per_key.
  static size_t EncodedBytes(size_t n, double bits_per_key);

  // The false-positive rate of a filter with bits_per_key bits per key and num_probes probes:
  // a key's block holds Poisson(512 / bits_per_key) other keys.
  static double ExpectedFpr(double bits_per_key, int num_probes);
  // The probe count minimizing ExpectedFpr at bits_per_key.
  static int BestProbes(double bits_per_key);
  // The smallest bits per key (to 0.01) whose ExpectedFpr, with the best probe count, is at
  // most target_fpr. REQUIRES: 0 < target_fpr < 1.
  static double BitsPerKeyFor(double target_fpr);

 private:
  struct FreeDeleter {
    void operator()(uint64_t* p) const;
  };

  uint32_t FastRange(uint32_t x) const {
    return static_cast<uint32_t>((static_cast<uint64_t>(x) * num_blocks_) >> 32);
  }
  void Allocate(uint32_t num_blocks);

  std::unique_ptr<uint64_t[], FreeDeleter> words_;  // 64-byte aligned, 8 words per block
  uint32_t num_blocks_ = 0;
  int num_probes_ = 0;
};

}  // namespace learnkv

#endif  // LEARNKV_LEARNED_FILTER_BLOOM_H_
