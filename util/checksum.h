// Checksums for everything learnkv writes to disk: XXH3 (libxxhash), as RocksDB's kXXH3.
// A stored checksum is the low 32 bits of XXH3-64 over the protected bytes. Like LevelDB's
// masked CRC, it is stored masked so that checksumming bytes that embed checksums stays sound.
//
// Thread safety: pure functions.
#ifndef LEARNKV_UTIL_CHECKSUM_H_
#define LEARNKV_UTIL_CHECKSUM_H_

#include <cstddef>
#include <cstdint>

#include "learnkv/slice.h"

namespace learnkv {

// Low 32 bits of XXH3-64 over data[0, n).
uint32_t Checksum32(const char* data, size_t n);
// Checksum of the concatenation a ++ b without copying (block contents plus its type byte).
uint32_t Checksum32(const char* a, size_t na, const char* b, size_t nb);
// Full 64-bit XXH3, for hashing keys (filters, cache sharding).
uint64_t Hash64(const char* data, size_t n, uint64_t seed = 0);
inline uint64_t Hash64(const Slice& s, uint64_t seed = 0) { return Hash64(s.data(), s.size(), seed); }

inline uint32_t MaskChecksum(uint32_t c) { return ((c >> 15) | (c << 17)) + 0xa282ead8u; }
inline uint32_t UnmaskChecksum(uint32_t m) {
  const uint32_t rot = m - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

}  // namespace learnkv

#endif  // LEARNKV_UTIL_CHECKSUM_H_
