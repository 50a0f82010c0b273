// The inputs of learnkv-bench's workloads: the key space (keys by index 0..num-1, byte order
// equal to index order), the per-thread stream of key indices that --key_dist asks for, and
// value bytes of a chosen compressibility.
//
// Key formats (--key_size bytes each, like db_bench's):
//   uniform, sequential, zipfian  index i as 8 bytes big-endian, padded with '0' to key_size;
//                                 a missing key is a present key whose last byte is '1'
//                                 instead (key_size 8: a present key plus one byte), so it
//                                 lies inside the key range, between keys i and i + 1.
//   a data set (util/datasets.h)  num keys of that shape, zero-padded or truncated to key_size;
//                                 a key that ties with its predecessor after truncation becomes
//                                 the predecessor's byte successor (counted in adjusted());
//                                 more than 1% of such ties fail Create (key_size too small).
//                                 Missing keys come from GenerateAbsentKeys, mapped the same
//                                 way, minus any that then collide with a present key.
//
// Thread safety: a KeySpace is immutable after Create and shared by all threads; each thread
// has its own KeyChooser and ValueGenerator.
#ifndef LEARNKV_TOOLS_BENCH_KEY_SPACE_H_
#define LEARNKV_TOOLS_BENCH_KEY_SPACE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "learnkv/slice.h"
#include "learnkv/status.h"
#include "tools/bench/config.h"
#include "util/random.h"

namespace learnkv::bench {

class KeySpace {
 public:
  // How random operations pick key indices.
  enum class Access { kUniform, kSequential, kZipfian };

  static Status Create(const BenchConfig& config, std::unique_ptr<KeySpace>* space);

  uint64_t num() const { return num_; }
  size_t key_size() const { return key_size_; }
  Access access() const { return access_; }

  // The key of index i (0 <= i < num): a view of the key space's storage or of *scratch,
  // valid until *scratch changes.
  Slice Key(uint64_t i, std::string* scratch) const;
  // A key that is absent but inside the key range; r picks which (any value).
  Slice MissingKey(uint64_t r, std::string* scratch) const;

  // E.g. "ycsb data set, uniform access (12 keys adjusted after truncation)".
  std::string Describe() const;
  uint64_t adjusted() const { return adjusted_; }

  // Zipfian parameters (Gray et al., "Quickly generating billion-record synthetic databases",
  // SIGMOD 1994), computed once: zeta(num, theta) is a sum over every key.
  double theta() const { return theta_; }
  double zeta_n() const { return zeta_n_; }
  double zipf_alpha() const { return alpha_; }
  double zipf_eta() const { return eta_; }

 private:
  KeySpace() = default;
  Status BuildDataset(const BenchConfig& config);

  uint64_t num_ = 0;
  size_t key_size_ = 0;
  Access access_ = Access::kUniform;
  std::string dataset_;  // empty for integer keys
  std::string keys_;     // data set: num_ keys of key_size_ bytes, ascending
  std::string missing_;  // data set: num_missing_ absent keys of key_size_ bytes
  uint64_t num_missing_ = 0;
  uint64_t adjusted_ = 0;
  double theta_ = 0, zeta_n_ = 0, alpha_ = 0, eta_ = 0;
};

// One thread's stream of key indices: uniform, sequential from `start` (wrapping), or
// zipfian with the popular indices scattered over the key space (YCSB's scrambled zipfian).
class KeyChooser {
 public:
  KeyChooser(const KeySpace& space, uint64_t seed, uint64_t start);
  uint64_t Next();
  Random* rng() { return &rng_; }

 private:
  const KeySpace& space_;
  Random rng_;
  uint64_t next_seq_;
};

// Value bytes: slices of a 1 MiB buffer in which each piece is `ratio` random printable bytes
// repeated, so compression shrinks values to about ratio of their size (db_bench's scheme).
class ValueGenerator {
 public:
  ValueGenerator(double compression_ratio, uint64_t seed);
  Slice Next(size_t len);

 private:
  std::string data_;
  size_t pos_ = 0;
};

}  // namespace learnkv::bench

#endif  // LEARNKV_TOOLS_BENCH_KEY_SPACE_H_
