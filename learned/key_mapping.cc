// Key mapping (see key_mapping.h).
//
// Why Map is monotone. Keys without the prefix: such a key differs from P at some byte i < |P|
// (or is a proper prefix of P); it sorts before every P-key when its byte i is smaller (or it
// is a prefix of P) and after every P-key otherwise, so mapping it to 0 or UINT64_MAX keeps
// the order. Keys with the prefix: the mixed-radix value orders keys as their digit strings
// compare lexicographically (each digit is below its radix). Take suffixes a < b and the first
// position i where they differ (a may end there). Before i both have the same bytes, hence the
// same digits and the same clamping state (a clamp decides every later digit of both alike).
// At i, a's byte (or its end, read as 0) is smaller than b's, and clamping is monotone, so
// digit_i(a) <= digit_i(b); when equal, both bytes were clamped to the same side: below min
// makes a's later digits 0 (the smallest), above max makes b's later digits the largest.
// Either way a's digit string is <= b's. Truncating to the first K digits keeps <=. The
// legacy mapping is the case min 0, radix 256 (no clamping ever happens).
#include "learned/key_mapping.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "util/coding.h"

namespace learnkv {

namespace {

// Marks the versioned encoding: a two-byte varint for 0, which PutVarint32 never writes, so
// no legacy encoding (a canonical varint32 prefix length first) starts with it.
constexpr char kVersionedMarker[2] = {'\x80', '\x00'};
constexpr uint8_t kMixedRadixVersion = 2;

}  // namespace

KeyMapper KeyMapper::ForRange(const Slice& smallest, const Slice& largest) {
  const size_t limit = std::min(smallest.size(), largest.size());
  size_t common = 0;
  while (common < limit && smallest[common] == largest[common]) ++common;
  return KeyMapper(Slice(smallest.data(), common));
}

KeyMapper KeyMapper::MixedRadix(const Slice& common_prefix, const uint8_t* min,
                                const uint8_t* max, size_t num_positions) {
  KeyMapper m(common_prefix);
  m.mixed_ = true;
  uint64_t max_value = 0;  // product of the radices so far, minus 1
  size_t k = 0;
  bool legacy_like = true;
  for (; k < std::min(num_positions, kMaxDigits); ++k) {
    if (max_value == std::numeric_limits<uint64_t>::max()) break;  // 64 bits used up
    const uint64_t r = uint64_t{max[k]} - min[k] + 1;
    if (max_value > (std::numeric_limits<uint64_t>::max() - (r - 1)) / r) break;
    max_value = max_value * r + (r - 1);
    m.digits_[k].min = min[k];
    m.digits_[k].radix = static_cast<uint16_t>(r);
    legacy_like = legacy_like && r == 256;
  }
  m.num_digits_ = static_cast<uint8_t>(k);
  if (legacy_like && k == 8) return KeyMapper(common_prefix);
  // Weights with wrapping products: a product of 2^64 reads as 0, which only happens where
  // every earlier radix is 1, and MapSuffix's arithmetic stays right modulo 2^64 there.
  uint64_t w = 1;
  for (size_t i = k; i-- > 0;) {
    m.digits_[i].weight = w;
    w *= m.digits_[i].radix;
  }
  return m;
}

uint64_t KeyMapper::MapOutside(const Slice& key) const {
  return key.compare(prefix_) < 0 ? 0 : std::numeric_limits<uint64_t>::max();
}

uint64_t KeyMapper::MapSuffix(const uint8_t* suffix, size_t n) const {
  if (!mixed_) {
    if (n >= 8) return DecodeBigEndian64(reinterpret_cast<const char*>(suffix));
    char buf[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    if (n > 0) memcpy(buf, suffix, n);
    return DecodeBigEndian64(buf);
  }
  uint64_t v = 0;
  for (size_t i = 0; i < num_digits_; ++i) {
    const Digit& d = digits_[i];
    const uint32_t b = i < n ? suffix[i] : 0;  // past the end: 0, below or at every min
    if (b < d.min) return v;                   // this digit and every later one 0
    const uint32_t digit = b - d.min;
    if (digit >= d.radix) return v + d.radix * d.weight - 1;  // this and later ones largest
    v += digit * d.weight;
  }
  return v;
}

void KeyMapper::EncodeTo(std::string* dst) const {
  if (!mixed_) {
    PutLengthPrefixedSlice(dst, prefix_);
    return;
  }
  dst->append(kVersionedMarker, sizeof(kVersionedMarker));
  dst->push_back(static_cast<char>(kMixedRadixVersion));
  PutLengthPrefixedSlice(dst, prefix_);
  dst->push_back(static_cast<char>(num_digits_));
  for (size_t i = 0; i < num_digits_; ++i) {
    dst->push_back(static_cast<char>(digits_[i].min));
    dst->push_back(static_cast<char>(digits_[i].min + digits_[i].radix - 1));
  }
}

Status KeyMapper::DecodeFrom(Slice* input, KeyMapper* mapper) {
  if (!input->starts_with(Slice(kVersionedMarker, sizeof(kVersionedMarker)))) {
    Slice prefix;
    if (!GetLengthPrefixedSlice(input, &prefix)) {
      return Status::Corruption("key mapping: truncated or malformed prefix");
    }
    *mapper = KeyMapper(prefix);
    return Status::OK();
  }
  Slice in = *input;
  in.remove_prefix(sizeof(kVersionedMarker));
  if (in.empty() || static_cast<uint8_t>(in[0]) != kMixedRadixVersion) {
    return Status::Corruption("key mapping: unknown version");
  }
  in.remove_prefix(1);
  Slice prefix;
  if (!GetLengthPrefixedSlice(&in, &prefix)) {
    return Status::Corruption("key mapping: truncated or malformed prefix");
  }
  if (in.empty()) return Status::Corruption("key mapping: missing digit count");
  const size_t k = static_cast<uint8_t>(in[0]);
  in.remove_prefix(1);
  if (k > kMaxDigits) return Status::Corruption("key mapping: too many digits");
  if (in.size() < 2 * k) return Status::Corruption("key mapping: truncated digits");
  uint8_t min[kMaxDigits], max[kMaxDigits];
  for (size_t i = 0; i < k; ++i) {
    min[i] = static_cast<uint8_t>(in[2 * i]);
    max[i] = static_cast<uint8_t>(in[2 * i + 1]);
    if (min[i] > max[i]) return Status::Corruption("key mapping: digit range inverted");
  }
  in.remove_prefix(2 * k);
  KeyMapper m = MixedRadix(prefix, min, max, k);
  // The encoder writes exactly the digits MixedRadix keeps; more means the radices overflow
  // 64 bits (or run on past a full range).
  if (m.num_digits() != k) return Status::Corruption("key mapping: digits overflow 64 bits");
  *mapper = std::move(m);
  *input = in;
  return Status::OK();
}

void KeyMapperBuilder::Add(const Slice& key) {
  if (num_keys_ == 0) {
    first_key_.assign(key.data(), key.size());
    prefix_len_ = key.size();
    runs_.emplace_back(0, prefix_len_);
    min_.assign(key.size() + kWidth, 0xff);
    max_.assign(key.size() + kWidth, 0);
    for (size_t i = 0; i < key.size(); ++i) min_[i] = max_[i] = static_cast<uint8_t>(key[i]);
  } else {
    // In sorted order the common prefix with the first key never grows.
    const size_t limit = std::min(prefix_len_, key.size());
    size_t common = 0;
    while (common < limit && first_key_[common] == key[common]) ++common;
    if (common < prefix_len_) {
      prefix_len_ = common;
      runs_.emplace_back(num_keys_, prefix_len_);
    }
  }
  max_key_len_ = std::max(max_key_len_, key.size());
  const size_t slot_index = num_keys_ % kChunkKeys;
  if (slot_index == 0) chunks_.push_back(std::make_unique_for_overwrite<uint8_t[]>(kChunkKeys * kWidth));
  uint8_t* slot = chunks_.back().get() + slot_index * kWidth;
  const uint8_t* p = reinterpret_cast<const uint8_t*>(key.data()) + prefix_len_;
  const size_t n = key.size() - prefix_len_;
  uint8_t* mn = min_.data() + prefix_len_;
  uint8_t* mx = max_.data() + prefix_len_;
  if (n >= kWidth) {
    memcpy(slot, p, kWidth);
    // Through locals (which alias nothing) and a fixed count: a few vector instructions.
    uint8_t lo[kWidth], hi[kWidth];
    memcpy(lo, mn, kWidth);
    memcpy(hi, mx, kWidth);
    for (size_t i = 0; i < kWidth; ++i) {
      lo[i] = std::min(lo[i], slot[i]);
      hi[i] = std::max(hi[i], slot[i]);
    }
    memcpy(mn, lo, kWidth);
    memcpy(mx, hi, kWidth);
  } else {
    memset(slot, 0, kWidth);
    if (n > 0) memcpy(slot, p, n);
    for (size_t i = 0; i < n; ++i) {
      mn[i] = std::min(mn[i], p[i]);
      mx[i] = std::max(mx[i], p[i]);
    }
  }
  ++num_keys_;
}

void KeyMapperBuilder::Clear() {
  first_key_.clear();
  prefix_len_ = 0;
  num_keys_ = 0;
  max_key_len_ = 0;
  runs_.clear();
  chunks_.clear();
  min_.clear();
  max_.clear();
}

KeyMapper KeyMapperBuilder::Finish(std::vector<uint64_t>* mapped) {
  mapped->clear();
  if (num_keys_ == 0) {
    Clear();
    return KeyMapper();
  }
  const size_t p = prefix_len_;
  // Every position in [p, max_key_len_) within the window was seen (builder header).
  const size_t positions = std::min(max_key_len_ - p, kWidth);
  KeyMapper mapper = KeyMapper::MixedRadix(Slice(first_key_.data(), p), min_.data() + p,
                                           max_.data() + p, positions);
  mapped->reserve(num_keys_);
  uint8_t buf[kWidth];
  for (size_t r = 0; r < runs_.size(); ++r) {
    const uint64_t begin = runs_[r].first;
    const uint64_t end = r + 1 < runs_.size() ? runs_[r + 1].first : num_keys_;
    // This run's bytes start d bytes later than the final prefix's end; those d bytes are
    // the first key's (shared by the run), so the final window is them, then the kept bytes.
    const size_t d = runs_[r].second - p;
    const size_t dropped = std::min(d, kWidth);
    memcpy(buf, first_key_.data() + p, dropped);
    for (uint64_t i = begin; i < end; ++i) {
      const uint8_t* kept = chunks_[i / kChunkKeys].get() + (i % kChunkKeys) * kWidth;
      if (d == 0) {
        mapped->push_back(mapper.MapSuffix(kept, kWidth));
      } else {
        memcpy(buf + dropped, kept, kWidth - dropped);
        mapped->push_back(mapper.MapSuffix(buf, kWidth));
      }
      if ((i + 1) % kChunkKeys == 0) chunks_[i / kChunkKeys].reset();  // converted
    }
  }
  Clear();
  return mapper;
}

}  // namespace learnkv
