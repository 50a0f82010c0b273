// Blocked Bloom filter (see filter_bloom.h).
//
// Encoding:
//   varint32 num_blocks B (1 <= B <= kMaxBlocks) | u8 num_probes k (1..kMaxProbes)
//   B x 64 bytes: block b's bits, as eight little-endian 64-bit words
//
// A key with hash h uses block FastRange(h >> 32, B) and bits p_1..p_k of it, where p_i is
// the top 9 bits of (uint32)h * 0x9e3779b9^(i-1) (mod 2^32).
#include "learned/filter_bloom.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "util/coding.h"

namespace learnkv {

void BloomFilter::FreeDeleter::operator()(uint64_t* p) const { std::free(p); }

void BloomFilter::Allocate(uint32_t num_blocks) {
  num_blocks_ = num_blocks;
  void* p = std::aligned_alloc(64, size_t{64} * std::max<uint32_t>(num_blocks, 1));
  words_.reset(static_cast<uint64_t*>(p));
  memset(words_.get(), 0, size_t{64} * num_blocks);
}

BloomFilter BloomFilter::Build(const uint64_t* hashes, size_t n, double bits_per_key,
                               int num_probes) {
  BloomFilter f;
  const double bits = std::max(1.0, std::ceil(static_cast<double>(n) * bits_per_key));
  const double blocks = std::ceil(bits / kBlockBits);
  f.Allocate(static_cast<uint32_t>(std::clamp(blocks, 1.0, double{kMaxBlocks})));
  f.num_probes_ = num_probes > 0 ? std::min(num_probes, kMaxProbes) : BestProbes(bits_per_key);
  for (size_t i = 0; i < n; ++i) {
    uint64_t* block = f.words_.get() +
                      8 * static_cast<size_t>(f.FastRange(static_cast<uint32_t>(hashes[i] >> 32)));
    uint32_t h = static_cast<uint32_t>(hashes[i]);
    for (int j = 0; j < f.num_probes_; ++j) {
      const uint32_t bit = h >> 23;
      block[bit >> 6] |= uint64_t{1} << (bit & 63);
      h *= 0x9e3779b9u;
    }
  }
  return f;
}

void BloomFilter::EncodeTo(std::string* dst) const {
  PutVarint32(dst, num_blocks_);
  dst->push_back(static_cast<char>(num_probes_));
  char buf[8];
  for (size_t i = 0; i < size_t{8} * num_blocks_; ++i) {
    EncodeFixed64(buf, words_[i]);
    dst->append(buf, 8);
  }
}

Status BloomFilter::DecodeFrom(Slice* input, BloomFilter* filter) {
  uint32_t blocks = 0;
  if (!GetVarint32(input, &blocks) || blocks == 0 || blocks > kMaxBlocks || input->empty()) {
    return Status::Corruption("bloom filter: bad block count");
  }
  const int probes = static_cast<uint8_t>((*input)[0]);
  input->remove_prefix(1);
  if (probes < 1 || probes > kMaxProbes) {
    return Status::Corruption("bloom filter: bad probe count");
  }
  const size_t bytes = size_t{64} * blocks;
  if (input->size() < bytes) return Status::Corruption("bloom filter: truncated bits");
  BloomFilter f;
  f.Allocate(blocks);
  f.num_probes_ = probes;
  for (size_t i = 0; i < size_t{8} * blocks; ++i)
    f.words_[i] = DecodeFixed64(input->data() + 8 * i);
  input->remove_prefix(bytes);
  *filter = std::move(f);
  return Status::OK();
}

size_t BloomFilter::EncodedBytes(size_t n, double bits_per_key) {
  const double bits = std::max(1.0, std::ceil(static_cast<double>(n) * bits_per_key));
  const double blocks = std::clamp(std::ceil(bits / kBlockBits), 1.0, double{kMaxBlocks});
  const uint32_t b = static_cast<uint32_t>(blocks);
  return VarintLength(b) + 1 + size_t{64} * b;
}

double BloomFilter::ExpectedFpr(double bits_per_key, int num_probes) {
  if (bits_per_key <= 0) return 1.0;
  const double lambda = kBlockBits / bits_per_key;    // mean load of a block
  const double keep = std::log1p(-1.0 / kBlockBits);  // ln P(one probe misses a bit)
  // Sum over the load j of the probed block, from the Poisson mode outwards until the terms
  // vanish.
  const int hi = static_cast<int>(lambda + 12 * std::sqrt(lambda) + 24);
  double fpr = 0;
  double log_p = -lambda;  // ln Poisson(0; lambda)
  for (int j = 0; j <= hi; ++j) {
    if (j > 0) log_p += std::log(lambda / j);
    const double set = -std::expm1(keep * num_probes * j);  // P(a given bit is set)
    fpr += std::exp(log_p) * std::pow(set, num_probes);
  }
  return std::min(1.0, fpr);
}

int BloomFilter::BestProbes(double bits_per_key) {
  int best = 1;
  double best_fpr = 2;
  // ln 2 * bits per key is optimal for a standard Bloom filter; blocking shifts it lower.
  const int limit = std::clamp(static_cast<int>(bits_per_key * 0.7) + 2, 1, kMaxProbes);
  for (int k = 1; k <= limit; ++k) {
    const double fpr = ExpectedFpr(bits_per_key, k);
    if (fpr < best_fpr) {
      best_fpr = fpr;
      best = k;
    }
  }
  return best;
}

double BloomFilter::BitsPerKeyFor(double target_fpr) {
  double lo = 0.01, hi = 64.0;
  if (ExpectedFpr(hi, BestProbes(hi)) > target_fpr) return hi;
  while (hi - lo > 0.01) {
    const double mid = (lo + hi) / 2;
    if (ExpectedFpr(mid, BestProbes(mid)) <= target_fpr) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return hi;
}

}  // namespace learnkv
