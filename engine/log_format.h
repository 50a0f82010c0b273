// The record format shared by the write-ahead log and the MANIFEST: a file is a sequence of
// 32 KiB blocks, each holding physical records; a logical record longer than the space left in
// a block is split into FIRST, MIDDLE..., LAST fragments.
//
//   block  := record* trailer?
//   record := checksum fixed32 | length fixed16 | type uint8 | payload[length]
//   trailer:= fewer than kHeaderSize zero bytes, when a header no longer fits in the block
//
// checksum is MaskChecksum(Checksum32(type ++ payload)) (util/checksum.h). A physical record
// never crosses a block boundary, so a reader that loses its place resynchronizes at the next
// block.
//
// Thread safety: constants and a plain enum only.
#ifndef LEARNKV_ENGINE_LOG_FORMAT_H_
#define LEARNKV_ENGINE_LOG_FORMAT_H_

#include <cstddef>
#include <cstdint>

#include "learnkv/options.h"

namespace learnkv {

// WalRecoveryMode, which decides what the reader does with damage, is public: options.h.

namespace log {

// Persistent: stored in every record header. Never renumber.
enum RecordType : uint8_t {
  // Reserved: zero-filled space (a preallocated or partly written file) reads as this.
  kZeroType = 0,
  kFullType = 1,
  kFirstType = 2,
  kMiddleType = 3,
  kLastType = 4,
};
constexpr uint8_t kMaxRecordType = kLastType;

constexpr size_t kBlockSize = 32768;

// checksum (4) + length (2) + type (1).
constexpr size_t kHeaderSize = 4 + 2 + 1;

}  // namespace log
}  // namespace learnkv

#endif  // LEARNKV_ENGINE_LOG_FORMAT_H_
