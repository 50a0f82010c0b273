// log::Writer appends logical records to a WAL or MANIFEST file in the block format of
// engine/log_format.h.
//
// Thread safety: none; one thread at a time (the write path's group-commit leader for the
// WAL, the holder of the DB mutex for the MANIFEST).
#ifndef LEARNKV_ENGINE_LOG_WRITER_H_
#define LEARNKV_ENGINE_LOG_WRITER_H_

#include <cstdint>

#include "engine/log_format.h"
#include "learnkv/env.h"
#include "learnkv/slice.h"
#include "learnkv/status.h"

namespace learnkv::log {

class Writer {
 public:
  // Writes to dest, which must be empty (or continues a file of dest_length bytes that ends
  // on a record boundary). dest is not owned and must outlive the writer.
  explicit Writer(WritableFile* dest, uint64_t dest_length = 0);
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Appends one logical record and flushes it to the OS (not synced; call the file's Sync()).
  // After an error the file's tail is unspecified; the caller should stop using the log.
  Status AddRecord(const Slice& record);

  // Physical size of the log so far.
  uint64_t FileSize() const { return file_offset_; }

 private:
  Status EmitPhysicalRecord(RecordType type, const char* data, size_t length);

  WritableFile* const dest_;
  size_t block_offset_;   // where the next record starts in the current block
  uint64_t file_offset_;  // bytes written to dest_
};

}  // namespace learnkv::log

#endif  // LEARNKV_ENGINE_LOG_WRITER_H_
