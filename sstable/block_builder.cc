// Record block layout (all integers little-endian):
//
//   +---------------------------------------------------------------+
//   | record 0: varint32 key_len | varint32 value_len | key | value  |
//   | record 1: ...                                                 |
//   | record n-1                                                    |
//   +---------------------------------------------------------------+
//   | offset[0] = 0 | offset[1] | ... | offset[n-1]                   |  u16 each, or u32 each
//   +---------------------------------------------------------------+  when "wide"
//   | fixed32: n << 1 | wide                                        |
//   +---------------------------------------------------------------+
//
// Offsets are 16 bits whenever the last record starts below 64 KiB (every block near the
// 4 KiB default), which halves their cost; a single flag bit says which width a block uses.
// Keys are stored whole: with a fixed number of records per block and an offset per record,
// a predicted ordinal leads to its record with two loads and no scan, which restart points
// with shared prefixes could not give.
#include "sstable/block_builder.h"

#include <cassert>

#include "util/coding.h"

namespace learnkv {

size_t BlockBuilder::RecordOverhead(size_t key_size, size_t value_size) {
  return VarintLength(key_size) + VarintLength(value_size) + key_size + value_size;
}

size_t BlockBuilder::SizeWith(size_t key_size, size_t value_size) const {
  const size_t data = buffer_.size() + RecordOverhead(key_size, value_size);
  const size_t width = data > 0xffff ? 4 : 2;
  return data + width * (offsets_.size() + 1) + 4;
}

void BlockBuilder::Add(const Slice& key, const Slice& value) {
  assert(!finished_);
  offsets_.push_back(static_cast<uint32_t>(buffer_.size()));
  PutVarint32(&buffer_, static_cast<uint32_t>(key.size()));
  PutVarint32(&buffer_, static_cast<uint32_t>(value.size()));
  buffer_.append(key.data(), key.size());
  buffer_.append(value.data(), value.size());
}

Slice BlockBuilder::Finish() {
  assert(!finished_);
  const bool wide = !offsets_.empty() && offsets_.back() > 0xffff;
  for (uint32_t off : offsets_) {
    if (wide) {
      PutFixed32(&buffer_, off);
    } else {
      char buf[2];
      EncodeFixed16(buf, static_cast<uint16_t>(off));
      buffer_.append(buf, 2);
    }
  }
  PutFixed32(&buffer_, (static_cast<uint32_t>(offsets_.size()) << 1) | (wide ? 1u : 0u));
  finished_ = true;
  return Slice(buffer_);
}

void BlockBuilder::Reset() {
  buffer_.clear();
  offsets_.clear();
  finished_ = false;
}

}  // namespace learnkv
