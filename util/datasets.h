// Deterministic key sets for tests, benchmarks and tools: SOSD-style integer distributions
// (as 8-byte big-endian strings, so byte order equals numeric order) and string-key shapes.
// Everything is generated from a seed; nothing is downloaded.
//
// Thread safety: pure functions.
#ifndef LEARNKV_UTIL_DATASETS_H_
#define LEARNKV_UTIL_DATASETS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace learnkv {

enum class Dataset {
  kUniformDense,   // consecutive integers from a random start
  kUniformSparse,  // uniformly random 64-bit integers
  kNormal,         // normal distribution by quantiles, scaled to 64 bits
  kLognormal,      // lognormal (sigma = 2) by quantiles, scaled to 64 bits
  kOsmLike,        // clustered: dense runs around a few thousand random centres (osm cell ids)
  kYcsb,           // "user" + 19-digit hashed number, as YCSB's string keys
  kUrl,            // URL-like keys: scheme, host, path segments
  kRandomBinary,   // random bytes of random length (1..32)
  kLongPrefix,     // keys sharing a long (40-byte) common prefix, then a numeric suffix
};

// All data sets, in the order above (for typed/parameterized tests).
const std::vector<Dataset>& AllDatasets();
// "uniform_dense", "uniform_sparse", "normal", "lognormal", "osm", "ycsb", "url",
// "random_binary", "long_prefix".
const char* DatasetName(Dataset d);
// Parses a name as printed by DatasetName; false if unknown.
bool ParseDataset(const std::string& name, Dataset* d);
// True for the integer data sets (8-byte big-endian keys).
bool IsIntegerDataset(Dataset d);

// n distinct keys, sorted bytewise ascending, deterministic in (d, n, seed).
std::vector<std::string> GenerateSortedKeys(Dataset d, size_t n, uint64_t seed);

// m keys of the same shape that are absent from `sorted_keys` (for negative lookups),
// deterministic in seed, in random order. REQUIRES: sorted_keys sorted and unique.
std::vector<std::string> GenerateAbsentKeys(Dataset d, const std::vector<std::string>& sorted_keys,
                                            size_t m, uint64_t seed);

// The 8-byte big-endian string of v.
std::string EncodeIntegerKey(uint64_t v);

}  // namespace learnkv

#endif  // LEARNKV_UTIL_DATASETS_H_
