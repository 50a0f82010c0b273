// Splitting a record into fragments: each fragment takes what is left of the current block
// after its header; when fewer than kHeaderSize bytes remain, they are zero-filled (the
// trailer) and the next fragment starts a new block. An empty record is one empty FULL
// fragment, so every AddRecord leaves at least one header in the file.

#include "engine/log_writer.h"

#include <algorithm>

#include "util/checksum.h"
#include "util/coding.h"

namespace learnkv::log {

Writer::Writer(WritableFile* dest, uint64_t dest_length)
    : dest_(dest), block_offset_(dest_length % kBlockSize), file_offset_(dest_length) {}

Status Writer::AddRecord(const Slice& record) {
  const char* ptr = record.data();
  size_t left = record.size();
  bool begin = true;
  Status s;
  do {
    const size_t leftover = kBlockSize - block_offset_;
    if (leftover < kHeaderSize) {
      if (leftover > 0) {
        static constexpr char kZeros[kHeaderSize] = {};
        s = dest_->Append(Slice(kZeros, leftover));
        if (!s.ok()) return s;
        file_offset_ += leftover;
      }
      block_offset_ = 0;
    }
    const size_t avail = kBlockSize - block_offset_ - kHeaderSize;
    const size_t fragment = std::min(left, avail);
    const bool end = (left == fragment);
    RecordType type;
    if (begin && end) {
      type = kFullType;
    } else if (begin) {
      type = kFirstType;
    } else if (end) {
      type = kLastType;
    } else {
      type = kMiddleType;
    }
    s = EmitPhysicalRecord(type, ptr, fragment);
    ptr += fragment;
    left -= fragment;
    begin = false;
  } while (s.ok() && left > 0);
  if (s.ok()) s = dest_->Flush();
  return s;
}

Status Writer::EmitPhysicalRecord(RecordType type, const char* data, size_t length) {
  char header[kHeaderSize];
  const char type_byte = static_cast<char>(type);
  EncodeFixed32(header, MaskChecksum(Checksum32(&type_byte, 1, data, length)));
  EncodeFixed16(header + 4, static_cast<uint16_t>(length));
  header[6] = type_byte;
  Status s = dest_->Append(Slice(header, kHeaderSize));
  if (s.ok()) s = dest_->Append(Slice(data, length));
  block_offset_ += kHeaderSize + length;
  file_offset_ += kHeaderSize + length;
  return s;
}

}  // namespace learnkv::log
