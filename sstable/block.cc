// Block parsing and validation (see block.h; layout in block_builder.cc).
#include "sstable/block.h"

namespace learnkv {

Block::Block(BlockContents contents, uint32_t num_records, bool wide, size_t records_end)
    : owned_(std::move(contents.data)),
      data_(owned_.get()),
      size_(contents.size),
      num_records_(num_records),
      wide_(wide),
      offsets_(data_ + records_end) {}

Status Block::Parse(BlockContents contents, bool internal_keys, const std::string& file_name,
                    uint64_t offset, Block* result) {
  const size_t n = contents.size;
  const char* data = contents.data.get();
  if (n < 4) return CorruptionAt(file_name, "block too short", offset);
  const uint32_t word = DecodeFixed32(data + n - 4);
  const uint32_t count = word >> 1;
  const bool wide = (word & 1) != 0;
  const size_t width = wide ? 4 : 2;
  if (count > (n - 4) / width) return CorruptionAt(file_name, "bad block record count", offset);
  const size_t records_end = n - 4 - size_t{count} * width;
  if (count == 0 && records_end != 0) {
    return CorruptionAt(file_name, "empty block with record bytes", offset);
  }
  const char* offsets = data + records_end;
  auto offset_of = [&](uint32_t i) -> size_t {
    return wide ? DecodeFixed32(offsets + 4 * size_t{i}) : DecodeFixed16(offsets + 2 * size_t{i});
  };
  for (uint32_t i = 0; i < count; ++i) {
    const size_t begin = offset_of(i);
    const size_t end = i + 1 < count ? offset_of(i + 1) : records_end;
    if ((i == 0 && begin != 0) || begin >= end || end > records_end) {
      return CorruptionAt(file_name, "bad record offsets in block", offset);
    }
    uint32_t key_len, value_len;
    const char* p = GetVarint32Ptr(data + begin, data + end, &key_len);
    if (p != nullptr) p = GetVarint32Ptr(p, data + end, &value_len);
    if (p == nullptr || uint64_t{key_len} + value_len != static_cast<uint64_t>(data + end - p)) {
      return CorruptionAt(file_name, "bad record lengths in block", offset);
    }
    if (internal_keys && key_len < kInternalKeyTrailerSize) {
      return CorruptionAt(file_name, "internal key too short in block", offset);
    }
  }
  *result = Block(std::move(contents), count, wide, records_end);
  return Status::OK();
}

bool Block::Find(const Slice& key, Slice* value) const {
  Slice k, v;
  for (uint32_t i = 0; i < num_records_; ++i) {
    RecordAt(i, &k, &v);
    if (k == key) {
      *value = v;
      return true;
    }
  }
  return false;
}

}  // namespace learnkv
