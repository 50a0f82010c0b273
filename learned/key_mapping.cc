// Key mapping (see key_mapping.h).
//
// Why Map is monotone: for keys with the prefix, it is a zero-padded 8-byte truncation of the
// suffix, and truncating or right-padding with the smallest byte never reverses a bytewise
// order. A key without the prefix differs from it at some byte i < |P| (or is a proper prefix
// of P); it sorts before every P-key when its byte i is smaller (or it is a prefix of P) and
// after every P-key otherwise, so mapping it to 0 or UINT64_MAX keeps the order.
#include "learned/key_mapping.h"

#include <algorithm>
#include <limits>

#include "util/coding.h"

namespace learnkv {

KeyMapper KeyMapper::ForRange(const Slice& smallest, const Slice& largest) {
  const size_t limit = std::min(smallest.size(), largest.size());
  size_t common = 0;
  while (common < limit && smallest[common] == largest[common]) ++common;
  return KeyMapper(Slice(smallest.data(), common));
}

uint64_t KeyMapper::Map(const Slice& key) const {
  if (!key.starts_with(prefix_)) {
    return key.compare(prefix_) < 0 ? 0 : std::numeric_limits<uint64_t>::max();
  }
  const size_t rest = key.size() - prefix_.size();
  if (rest >= 8) return DecodeBigEndian64(key.data() + prefix_.size());
  char buf[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  if (rest > 0) memcpy(buf, key.data() + prefix_.size(), rest);
  return DecodeBigEndian64(buf);
}

void KeyMapper::EncodeTo(std::string* dst) const { PutLengthPrefixedSlice(dst, prefix_); }

Status KeyMapper::DecodeFrom(Slice* input, KeyMapper* mapper) {
  Slice prefix;
  if (!GetLengthPrefixedSlice(input, &prefix)) {
    return Status::Corruption("key mapping: truncated or malformed prefix");
  }
  *mapper = KeyMapper(prefix);
  return Status::OK();
}

}  // namespace learnkv
