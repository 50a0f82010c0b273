// Binary fuse filter construction and serialization (see filter_fuse.h).
//
// A key with hash h and the filter's seed s is remixed to m = Remix64(h + s); its slots are
//   s0 = mulhi(m, S * L),  s1 = (s0 + L) ^ ((m >> 18) & (L - 1)),  s2 = (s0 + 2L) ^ (m & (L - 1))
// (one slot in each of three consecutive segments of length L), and its fingerprint is the
// low r bits of m ^ (m >> 32). The key is reported present iff the XOR of its three r-bit slots
// equals its fingerprint. Segment length and array size follow the paper's formulas.
#include "learned/filter_fuse.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "util/coding.h"

namespace learnkv {

namespace {

size_t PackedBytes(uint64_t slots, int bits) {
  return static_cast<size_t>((slots * static_cast<uint64_t>(bits) + 7) / 8);
}

// Sorts v ascending: a least-significant-digit radix sort (six passes of 11 bits) for large
// sets, where it takes a third of std::sort's time; a build sorts its hashes only to drop
// repeats, which would never peel.
void SortHashes(std::vector<uint64_t>* v) {
  constexpr size_t kRadixFrom = 4096;
  constexpr int kDigitBits = 11;
  constexpr int kPasses = (64 + kDigitBits - 1) / kDigitBits;
  constexpr size_t kBuckets = size_t{1} << kDigitBits;
  const size_t n = v->size();
  if (n < kRadixFrom) {
    std::sort(v->begin(), v->end());
    return;
  }
  std::vector<uint32_t> counts(kPasses * kBuckets, 0);
  for (uint64_t x : *v) {
    for (int p = 0; p < kPasses; ++p)
      counts[p * kBuckets + ((x >> (p * kDigitBits)) & (kBuckets - 1))]++;
  }
  std::vector<uint64_t> other(n);
  uint64_t* src = v->data();
  uint64_t* dst = other.data();
  for (int p = 0; p < kPasses; ++p) {
    uint32_t* c = counts.data() + p * kBuckets;
    uint32_t sum = 0;
    for (size_t b = 0; b < kBuckets; ++b) {
      const uint32_t k = c[b];
      c[b] = sum;
      sum += k;
    }
    const int shift = p * kDigitBits;
    for (size_t i = 0; i < n; ++i) dst[c[(src[i] >> shift) & (kBuckets - 1)]++] = src[i];
    std::swap(src, dst);
  }
  // An even number of passes ends in v itself.
  static_assert(kPasses % 2 == 0);
}

}  // namespace

FuseFilter::Shape FuseFilter::ShapeFor(size_t n) {
  Shape shape;
  if (n == 0) return shape;
  if (n <= 2) {
    shape.segment_length = 4;
    shape.segment_count = 1;
    return shape;
  }
  const double ln = std::log(static_cast<double>(n));
  const int log_length = static_cast<int>(std::floor(ln / std::log(3.33) + 2.25));
  shape.segment_length = std::min(kMaxSegmentLength, uint32_t{1} << std::clamp(log_length, 2, 18));
  const double size_factor = std::max(1.125, 0.875 + 0.25 * std::log(1e6) / ln);
  const double capacity = std::round(static_cast<double>(n) * size_factor);
  const double segments = std::ceil(capacity / shape.segment_length) - 2;
  shape.segment_count = static_cast<uint32_t>(std::max(1.0, segments));
  return shape;
}

void FuseFilter::SetShape(const Shape& shape, int bits) {
  segment_length_ = shape.segment_length;
  segment_mask_ = shape.segment_length == 0 ? 0 : shape.segment_length - 1;
  segment_count_ = shape.segment_count;
  segment_count_length_ = shape.segment_count * shape.segment_length;
  array_length_ =
      shape.segment_length == 0 ? 0 : (uint64_t{shape.segment_count} + 2) * shape.segment_length;
  bits_ = bits;
  mask_ = bits >= 32 ? ~0u : (uint32_t{1} << bits) - 1;
}

bool FuseFilter::TryBuild(const std::vector<uint64_t>& hashes, std::vector<uint16_t>* slots) {
  const size_t n = hashes.size();
  std::vector<uint64_t> xors(array_length_, 0);
  std::vector<uint32_t> counts(array_length_, 0);
  uint32_t s[3];
  for (uint64_t h : hashes) {
    const uint64_t m = Remix64(h + seed_);
    Slots(m, &s[0], &s[1], &s[2]);
    for (uint32_t slot : s) {
      counts[slot]++;
      xors[slot] ^= m;
    }
  }
  // Peel: a slot held by one key determines that key; removing it may free others.
  std::vector<uint32_t> queue;
  for (uint32_t i = 0; i < array_length_; ++i) {
    if (counts[i] == 1) queue.push_back(i);
  }
  std::vector<std::pair<uint64_t, uint32_t>> order;  // (remixed hash, its peeled slot)
  order.reserve(n);
  while (!queue.empty()) {
    const uint32_t i = queue.back();
    queue.pop_back();
    if (counts[i] != 1) continue;
    const uint64_t m = xors[i];
    order.emplace_back(m, i);
    Slots(m, &s[0], &s[1], &s[2]);
    for (uint32_t slot : s) {
      xors[slot] ^= m;
      if (--counts[slot] == 1) queue.push_back(slot);
    }
  }
  if (order.size() != n) return false;
  // Assign in reverse peeling order: each key's peeled slot is still free when it is reached,
  // and the slots it shares are final.
  slots->assign(array_length_, 0);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Slots(it->first, &s[0], &s[1], &s[2]);
    const uint32_t v =
        (Fingerprint(it->first) ^ (*slots)[s[0]] ^ (*slots)[s[1]] ^ (*slots)[s[2]]) & mask_;
    (*slots)[it->second] = static_cast<uint16_t>(v);
  }
  return true;
}

FuseFilter FuseFilter::Build(std::vector<uint64_t> hashes, int bits) {
  bits = std::clamp(bits, 1, kMaxBits);
  SortHashes(&hashes);
  hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
  FuseFilter f;
  Shape shape = ShapeFor(hashes.size());
  f.SetShape(shape, bits);
  std::vector<uint16_t> slots;
  if (!hashes.empty()) {
    for (uint64_t attempt = 0;; ++attempt) {
      f.seed_ = Remix64(attempt + 0x6a09e667f3bcc909ull);
      if (f.TryBuild(hashes, &slots)) break;
      // Failures are rare at the paper's sizes; if they repeat (tiny or unlucky sets), grow.
      if (attempt % 8 == 7) {
        shape.segment_count += std::max<uint32_t>(1, shape.segment_count / 8);
        f.SetShape(shape, bits);
      }
    }
  }
  f.packed_.assign(PackedBytes(f.array_length_, bits) + 8, 0);
  for (uint64_t i = 0; i < f.array_length_; ++i) {
    const uint64_t bit = i * bits;
    uint64_t word;
    memcpy(&word, f.packed_.data() + (bit >> 3), 8);
    word |= static_cast<uint64_t>(slots[i]) << (bit & 7);
    memcpy(f.packed_.data() + (bit >> 3), &word, 8);
  }
  return f;
}

void FuseFilter::EncodeTo(std::string* dst) const {
  dst->push_back(static_cast<char>(bits_));
  PutFixed64(dst, seed_);
  PutVarint32(dst, segment_length_);
  PutVarint32(dst, segment_count_);
  dst->append(reinterpret_cast<const char*>(packed_.data()), PackedBytes(array_length_, bits_));
}

Status FuseFilter::DecodeFrom(Slice* input, FuseFilter* filter) {
  if (input->empty()) return Status::Corruption("fuse filter: truncated");
  const int bits = static_cast<uint8_t>((*input)[0]);
  input->remove_prefix(1);
  uint64_t seed = 0;
  uint32_t length = 0, count = 0;
  if (bits < 1 || bits > kMaxBits || !GetFixed64(input, &seed) || !GetVarint32(input, &length) ||
      !GetVarint32(input, &count)) {
    return Status::Corruption("fuse filter: bad header");
  }
  Shape shape{length, count};
  if (length == 0 ? count != 0
                  : (length > kMaxSegmentLength || (length & (length - 1)) != 0 || count == 0 ||
                     (uint64_t{count} + 2) * length > kMaxSlots)) {
    return Status::Corruption("fuse filter: bad shape");
  }
  FuseFilter f;
  f.SetShape(shape, bits);
  f.seed_ = seed;
  const size_t bytes = PackedBytes(f.array_length_, bits);
  if (input->size() < bytes) return Status::Corruption("fuse filter: truncated slots");
  f.packed_.assign(bytes + 8, 0);
  memcpy(f.packed_.data(), input->data(), bytes);
  input->remove_prefix(bytes);
  *filter = std::move(f);
  return Status::OK();
}

size_t FuseFilter::EncodedBytes(size_t n, int bits) {
  const Shape shape = ShapeFor(n);
  const uint64_t slots =
      shape.segment_length == 0 ? 0 : (uint64_t{shape.segment_count} + 2) * shape.segment_length;
  return 1 + 8 + VarintLength(shape.segment_length) + VarintLength(shape.segment_count) +
         PackedBytes(slots, bits);
}

// ---- FractionalFuseFilter ----

FractionalFuseFilter FractionalFuseFilter::Build(const std::vector<uint64_t>& hashes, int eighths) {
  FractionalFuseFilter f;
  f.eighths_ = std::clamp(eighths, 0, kMaxEighths);
  const int r = f.eighths_ >> 3, j = f.eighths_ & 7;
  std::vector<uint64_t> narrow, wide;
  for (uint64_t h : hashes) {
    if (SplitValue(h) < static_cast<unsigned>(j)) {
      wide.push_back(h);
    } else if (r > 0) {
      narrow.push_back(h);
    }
  }
  if (r > 0) f.narrow_ = FuseFilter::Build(std::move(narrow), r);
  if (j > 0) f.wide_ = FuseFilter::Build(std::move(wide), r + 1);
  return f;
}

double FractionalFuseFilter::Fpr(int eighths) {
  const int r = eighths >> 3, j = eighths & 7;
  return (j / 8.0) * std::ldexp(1.0, -(r + 1)) + (1 - j / 8.0) * std::ldexp(1.0, -r);
}

int FractionalFuseFilter::EighthsFor(double fpr) {
  for (int e = 0; e <= kMaxEighths; ++e) {
    if (Fpr(e) <= fpr) return e;
  }
  return kMaxEighths;
}

size_t FractionalFuseFilter::EncodedBytes(size_t n, int eighths) {
  const int r = eighths >> 3, j = eighths & 7;
  const size_t wide = n * j / 8;
  size_t bytes = 1;
  if (r > 0) bytes += FuseFilter::EncodedBytes(n - wide, r);
  if (j > 0) bytes += FuseFilter::EncodedBytes(wide, r + 1);
  return bytes;
}

size_t FractionalFuseFilter::EncodedBytes(const uint64_t split_counts[8], int eighths) {
  eighths = std::clamp(eighths, 0, kMaxEighths);
  const int r = eighths >> 3, j = eighths & 7;
  uint64_t wide = 0, narrow = 0;
  for (int v = 0; v < 8; ++v) (v < j ? wide : narrow) += split_counts[v];
  size_t bytes = 1;
  if (r > 0) bytes += FuseFilter::EncodedBytes(static_cast<size_t>(narrow), r);
  if (j > 0) bytes += FuseFilter::EncodedBytes(static_cast<size_t>(wide), r + 1);
  return bytes;
}

void FractionalFuseFilter::EncodeTo(std::string* dst) const {
  dst->push_back(static_cast<char>(eighths_));
  if ((eighths_ >> 3) > 0) narrow_.EncodeTo(dst);
  if ((eighths_ & 7) > 0) wide_.EncodeTo(dst);
}

Status FractionalFuseFilter::DecodeFrom(Slice* input, FractionalFuseFilter* filter) {
  if (input->empty()) return Status::Corruption("fractional fuse filter: truncated");
  FractionalFuseFilter f;
  f.eighths_ = static_cast<uint8_t>((*input)[0]);
  input->remove_prefix(1);
  if (f.eighths_ > kMaxEighths) return Status::Corruption("fractional fuse filter: bad width");
  const int r = f.eighths_ >> 3, j = f.eighths_ & 7;
  if (r > 0) {
    Status s = FuseFilter::DecodeFrom(input, &f.narrow_);
    if (!s.ok()) return s;
    if (f.narrow_.bits() != r) return Status::Corruption("fractional fuse filter: width mismatch");
  }
  if (j > 0) {
    Status s = FuseFilter::DecodeFrom(input, &f.wide_);
    if (!s.ok()) return s;
    if (f.wide_.bits() != r + 1) {
      return Status::Corruption("fractional fuse filter: width mismatch");
    }
  }
  *filter = std::move(f);
  return Status::OK();
}

}  // namespace learnkv
