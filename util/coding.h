// Endian-neutral encoding of integers: fixed-width little-endian, fixed-width big-endian (for
// order-preserving key encodings), and LEB128 varints, plus length-prefixed slices.
//
// Thread safety: pure functions.
#ifndef LEARNKV_UTIL_CODING_H_
#define LEARNKV_UTIL_CODING_H_

#include <cstdint>
#include <cstring>
#include <string>

#include "learnkv/slice.h"

namespace learnkv {

inline void EncodeFixed16(char* dst, uint16_t v) {
  uint8_t* b = reinterpret_cast<uint8_t*>(dst);
  b[0] = static_cast<uint8_t>(v);
  b[1] = static_cast<uint8_t>(v >> 8);
}
inline void EncodeFixed32(char* dst, uint32_t v) {
  uint8_t* b = reinterpret_cast<uint8_t*>(dst);
  for (int i = 0; i < 4; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void EncodeFixed64(char* dst, uint64_t v) {
  uint8_t* b = reinterpret_cast<uint8_t*>(dst);
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline uint16_t DecodeFixed16(const char* p) {
  const uint8_t* b = reinterpret_cast<const uint8_t*>(p);
  return static_cast<uint16_t>(b[0] | (b[1] << 8));
}
inline uint32_t DecodeFixed32(const char* p) {
  uint32_t v;
  memcpy(&v, p, sizeof(v));  // x86-64 and aarch64 Linux are little-endian
  return v;
}
inline uint64_t DecodeFixed64(const char* p) {
  uint64_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "learnkv assumes a little-endian host");

// Big-endian: byte order equals numeric order, so encoded integers sort as strings.
inline void EncodeBigEndian64(char* dst, uint64_t v) {
  uint8_t* b = reinterpret_cast<uint8_t*>(dst);
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
}
inline uint64_t DecodeBigEndian64(const char* p) {
  return __builtin_bswap64(DecodeFixed64(p));
}

// The first 8 bytes of a byte string as a big-endian integer, zero-padded when shorter. If two
// strings' prefixes differ, their first differing byte is a real byte of both or the end of the
// shorter one (a zero pad against a nonzero byte, the shorter string being a prefix of the
// longer), so the integers order the strings as bytewise comparison does; equal integers
// decide nothing. Lets sorted searches compare integers and touch the bytes only on ties.
inline uint64_t OrderPrefix64(const char* data, size_t size) {
  if (size >= 8) return DecodeBigEndian64(data);
  uint64_t prefix = 0;
  for (size_t i = 0; i < 8; ++i) {
    prefix = (prefix << 8) | (i < size ? static_cast<uint8_t>(data[i]) : 0);
  }
  return prefix;
}

void PutFixed32(std::string* dst, uint32_t v);
void PutFixed64(std::string* dst, uint64_t v);
void PutVarint32(std::string* dst, uint32_t v);
void PutVarint64(std::string* dst, uint64_t v);
// varint32 length followed by the bytes.
void PutLengthPrefixedSlice(std::string* dst, const Slice& value);

// Writes a varint into dst (at least 10 bytes of room); returns one past the last byte.
char* EncodeVarint32(char* dst, uint32_t v);
char* EncodeVarint64(char* dst, uint64_t v);
int VarintLength(uint64_t v);

// Parsers consume from the front of *input; they return false on truncated or overlong input
// and then leave *input unspecified.
bool GetFixed32(Slice* input, uint32_t* value);
bool GetFixed64(Slice* input, uint64_t* value);
bool GetVarint32(Slice* input, uint32_t* value);
bool GetVarint64(Slice* input, uint64_t* value);
bool GetLengthPrefixedSlice(Slice* input, Slice* result);

// Pointer-range forms: parse from [p, limit); return one past the value, or nullptr.
const char* GetVarint32Ptr(const char* p, const char* limit, uint32_t* value);
const char* GetVarint64Ptr(const char* p, const char* limit, uint64_t* value);

}  // namespace learnkv

#endif  // LEARNKV_UTIL_CODING_H_
