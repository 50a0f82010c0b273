#include "util/checksum.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace learnkv {

uint32_t Checksum32(const char* data, size_t n) {
  return static_cast<uint32_t>(XXH3_64bits(data, n));
}

uint32_t Checksum32(const char* a, size_t na, const char* b, size_t nb) {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  XXH3_64bits_update(&state, a, na);
  XXH3_64bits_update(&state, b, nb);
  return static_cast<uint32_t>(XXH3_64bits_digest(&state));
}

uint64_t Hash64(const char* data, size_t n, uint64_t seed) {
  return XXH3_64bits_withSeed(data, n, seed);
}

}  // namespace learnkv
