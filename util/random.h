// Random: a small, fast, deterministic pseudo-random generator for skiplist heights, tests and
// benchmarks. The state advances by SplitMix64's Weyl sequence and each output is that
// state mixed (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
// OOPSLA 2014): one add and a few multiplies, 2^64 period, passes BigCrush. Not for secrets.
//
// Thread safety: none; give each thread its own Random.
#ifndef LEARNKV_UTIL_RANDOM_H_
#define LEARNKV_UTIL_RANDOM_H_

#include <cstdint>

namespace learnkv {

class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}

  uint64_t Next64() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

  uint32_t Next() { return static_cast<uint32_t>(Next64() >> 32); }

  // Uniform in [0, n) (Lemire's multiply-shift; the bias is below 2^-32 and irrelevant here).
  // REQUIRES: n > 0.
  uint32_t Uniform(uint32_t n) {
    return static_cast<uint32_t>((static_cast<uint64_t>(Next()) * n) >> 32);
  }
  uint64_t Uniform64(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next64()) * n) >> 64);
  }

  // True with probability 1/n. REQUIRES: n > 0.
  bool OneIn(uint32_t n) { return Uniform(n) == 0; }

  // Picks a bit width uniformly in [0, max_log], then a value of that many bits: small values
  // are exponentially more likely, as key and value sizes in real workloads.
  // REQUIRES: 0 <= max_log <= 30.
  uint32_t Skewed(int max_log) { return Uniform(uint32_t{1} << Uniform(max_log + 1)); }

  // Uniform in [0, 1).
  double NextDouble() { return static_cast<double>(Next64() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

}  // namespace learnkv

#endif  // LEARNKV_UTIL_RANDOM_H_
