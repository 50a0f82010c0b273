// The LearnedTable file, and the glue between RocksDB's file and status types and learnkv's.
//
// A LearnedTable file is a complete learnkv table followed by what every RocksDB table file
// carries — range tombstones, RocksDB's table properties, a metaindex naming them, and a RocksDB
// footer with LearnedTable's magic number — so that RocksDB's own code (ReadTableProperties,
// which GetPropertiesOfAllTables uses on files no reader has open) reads it as it reads PlainTable
// or CuckooTable files, and the learnkv table inside needs no change at all:
//
//   offset 0
//   +---------------------------------------+
//   | learnkv table (T bytes)               |  sstable/, docs/table_format.md: data blocks,
//   |   ... | learnkv footer (48 bytes)     |  model or classic index, filter, properties,
//   +---------------------------------------+  metaindex and footer; every block checksummed
//   | range tombstones (R bytes)            |  varint64 count | count x (varint32 key length |
//   |                                       |  internal key | varint32 value length | end key)
//   +---------------------------------------+
//   | RocksDB properties block              |  PropertyBlockBuilder: RocksDB's properties,
//   |                                       |  learnkv.* and user-collected properties
//   +---------------------------------------+
//   | RocksDB metaindex block               |  "rocksdb.properties" -> handle
//   +---------------------------------------+
//   | tail trailer (24 bytes)               |  fixed64 T | fixed64 R | fixed32 version (1) |
//   |                                       |  fixed32 masked XXH3 of [T, here) ++ T R version
//   +---------------------------------------+
//   | RocksDB footer (53 bytes)             |  footer format 1, no block checksums (trailer
//   +---------------------------------------+  size 0, as for PlainTable), magic number below
//
// RocksDB reads the tail blocks without checksums (its block trailer size is 0 for foreign magic
// numbers); the tail trailer's checksum covers them and the trailer's own fields instead, and the
// reader checks it, and that the metaindex ends where the trailer starts, before anything parses
// them: RocksDB's block parser asserts on malformed input (Debian builds it with assertions on),
// so it must only ever see verified bytes. Of the whole file only RocksDB's footer padding, index
// handle and checksum type byte, which nothing reads, are unprotected. Range tombstones live
// outside the learnkv table because learnkv's engine never writes any and its format need not know
// them.
//
// Thread safety: the adapters follow the file objects they wrap — reads may be concurrent, a
// writer has one user; the functions are pure.
#ifndef LEARNKV_SSTABLE_ROCKSDB_LEARNED_TABLE_FORMAT_H_
#define LEARNKV_SSTABLE_ROCKSDB_LEARNED_TABLE_FORMAT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "file/random_access_file_reader.h"
#include "file/writable_file_writer.h"
#include "learnkv/env.h"
#include "learnkv/slice.h"
#include "learnkv/status.h"
#include "rocksdb/io_status.h"
#include "rocksdb/slice.h"
#include "rocksdb/status.h"

namespace learnkv {

// The first 64 bits of SHA-1("learnkv.rocksdb.LearnedTable"), as RocksDB picks its own.
// Persistent: never change.
constexpr uint64_t kLearnedTableMagicNumber = 0x217fdbc611022a5full;
// The RocksDB footer's format version; LearnedTable's own version is the tail trailer's.
constexpr uint32_t kLearnedTableFooterVersion = 1;
// Bumped on any incompatible change of the tail; readers reject other versions.
constexpr uint32_t kLearnedTableTailVersion = 1;

// The fixed-size record between the metaindex and RocksDB's footer.
struct TailTrailer {
  static constexpr size_t kEncodedLength = 24;

  uint64_t table_size = 0;      // T: the learnkv table's bytes, from offset 0
  uint64_t range_del_size = 0;  // R: the range tombstone block's bytes, from offset T
  uint32_t version = kLearnedTableTailVersion;
  uint32_t checksum = 0;  // Checksum(the tail bytes [T, trailer offset))

  // The masked Checksum32 of `tail` followed by the encoded table_size, range_del_size and
  // version.
  uint32_t Checksum(const Slice& tail) const;
  // Appends the encoding; checksum must already be set.
  void EncodeTo(std::string* dst) const;
  // input holds exactly kEncodedLength bytes. Corruption says what is wrong.
  Status DecodeFrom(const Slice& input);
};

// The range tombstone block: (internal start key, end user key) pairs in the order added.
void EncodeRangeTombstones(const std::vector<std::pair<std::string, std::string>>& tombstones,
                           std::string* dst);
// Corruption if malformed or if a key holds no trailer.
Status DecodeRangeTombstones(const Slice& input, std::vector<std::string>* keys,
                             std::vector<std::string>* values);

inline rocksdb::Slice ToRocks(const Slice& s) { return rocksdb::Slice(s.data(), s.size()); }
inline Slice FromRocks(const rocksdb::Slice& s) { return Slice(s.data(), s.size()); }

// The same code and message on the other side (learnkv has no Incomplete or TryAgain: they
// become IOError and Busy).
rocksdb::Status ToRocks(const Status& s);
Status FromRocks(const rocksdb::Status& s);

// learnkv's RandomAccessFile over the first `size` bytes of a RocksDB file reader (the learnkv
// table inside a LearnedTable file). The reader is borrowed and must outlive this file.
class RocksRandomAccessFile final : public RandomAccessFile {
 public:
  RocksRandomAccessFile(rocksdb::RandomAccessFileReader* file, uint64_t size)
      : file_(file), size_(size) {}
  // Reads stop at size(), as a file of that length would.
  Status Read(uint64_t offset, size_t n, Slice* result, char* scratch) const override;
  uint64_t Size() const override { return size_; }

 private:
  rocksdb::RandomAccessFileReader* const file_;
  const uint64_t size_;
};

// learnkv's WritableFile over a RocksDB file writer. The writer is borrowed: RocksDB syncs and
// closes it after the table builder is done, so Sync and Close do nothing here.
class RocksWritableFile final : public WritableFile {
 public:
  explicit RocksWritableFile(rocksdb::WritableFileWriter* file) : file_(file) {}
  Status Append(const Slice& data) override;
  Status Flush() override;
  Status Sync() override { return Status::OK(); }
  Status Close() override { return Status::OK(); }
  uint64_t Size() const override { return file_->GetFileSize(); }

  // The first I/O error, with RocksDB's detail (retryable, scope) intact; OK if none.
  const rocksdb::IOStatus& io_status() const { return io_status_; }

 private:
  Status Remember(const rocksdb::IOStatus& s);

  rocksdb::WritableFileWriter* const file_;
  rocksdb::IOStatus io_status_;
};

}  // namespace learnkv

#endif  // LEARNKV_SSTABLE_ROCKSDB_LEARNED_TABLE_FORMAT_H_
