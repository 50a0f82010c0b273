// Small hashing helpers shared by the membership filters (filter_bloom.h, filter_fuse.h,
// filter_learned.h). Every filter starts from one 64-bit XXH3 hash of the user key
// (util/checksum.h Hash64) and derives what it needs from it with these functions, so a key
// is hashed once per probe however many filters look at it.
//
// Thread safety: pure functions.
#ifndef LEARNKV_LEARNED_FILTER_HASH_H_
#define LEARNKV_LEARNED_FILTER_HASH_H_

#include <cstdint>

#include "learnkv/slice.h"
#include "util/checksum.h"

namespace learnkv {

// The hash every filter of a table is built from and probed with.
inline uint64_t FilterKeyHash(const Slice& user_key) { return Hash64(user_key, 0); }

// A bijective 64-bit finalizer (MurmurHash3's fmix64), to derive independent-looking hashes
// for several filters from one key hash: Remix(h + seed).
inline uint64_t Remix64(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

// floor(x * n / 2^32): maps a uniform 32-bit value to [0, n) without a division (Lemire,
// "Fast random integer generation in an interval", TOMACS 2019).
inline uint32_t FastRange32(uint32_t x, uint32_t n) {
  return static_cast<uint32_t>((static_cast<uint64_t>(x) * n) >> 32);
}

// The high 64 bits of a * b.
inline uint64_t MulHi64(uint64_t a, uint64_t b) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(a) * b) >> 64);
}

}  // namespace learnkv

#endif  // LEARNKV_LEARNED_FILTER_HASH_H_
