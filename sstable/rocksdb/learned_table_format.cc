// The LearnedTable tail (layout in learned_table_format.h) and the file and status adapters.
#include "sstable/rocksdb/learned_table_format.h"

#include <cstring>

#include "sstable/internal_key.h"
#include "util/checksum.h"
#include "util/coding.h"

namespace learnkv {

uint32_t TailTrailer::Checksum(const Slice& tail) const {
  std::string fields;
  PutFixed64(&fields, table_size);
  PutFixed64(&fields, range_del_size);
  PutFixed32(&fields, version);
  return MaskChecksum(Checksum32(tail.data(), tail.size(), fields.data(), fields.size()));
}

void TailTrailer::EncodeTo(std::string* dst) const {
  PutFixed64(dst, table_size);
  PutFixed64(dst, range_del_size);
  PutFixed32(dst, version);
  PutFixed32(dst, checksum);
}

Status TailTrailer::DecodeFrom(const Slice& input) {
  if (input.size() != kEncodedLength) return Status::Corruption("truncated LearnedTable trailer");
  const char* p = input.data();
  table_size = DecodeFixed64(p);
  range_del_size = DecodeFixed64(p + 8);
  version = DecodeFixed32(p + 16);
  checksum = DecodeFixed32(p + 20);
  if (version != kLearnedTableTailVersion) {
    return Status::Corruption("unsupported LearnedTable version " + std::to_string(version));
  }
  return Status::OK();
}

void EncodeRangeTombstones(const std::vector<std::pair<std::string, std::string>>& tombstones,
                           std::string* dst) {
  PutVarint64(dst, tombstones.size());
  for (const auto& [key, end] : tombstones) {
    PutLengthPrefixedSlice(dst, key);
    PutLengthPrefixedSlice(dst, end);
  }
}

Status DecodeRangeTombstones(const Slice& input, std::vector<std::string>* keys,
                             std::vector<std::string>* values) {
  Slice in = input;
  uint64_t n = 0;
  // Each tombstone takes at least 2 + 8 bytes, which bounds what a bad count can reserve.
  if (!GetVarint64(&in, &n) || n > in.size() / 10) {
    return Status::Corruption("bad range tombstone count");
  }
  keys->reserve(n);
  values->reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    Slice key, end;
    if (!GetLengthPrefixedSlice(&in, &key) || !GetLengthPrefixedSlice(&in, &end) ||
        key.size() < kInternalKeyTrailerSize) {
      return Status::Corruption("bad range tombstone");
    }
    keys->push_back(key.ToString());
    values->push_back(end.ToString());
  }
  if (!in.empty()) return Status::Corruption("trailing bytes after range tombstones");
  return Status::OK();
}

rocksdb::Status ToRocks(const Status& s) {
  if (s.ok()) return rocksdb::Status::OK();
  const std::string msg = s.message();
  if (s.IsCorruption()) return rocksdb::Status::Corruption(msg);
  if (s.IsNotFound()) return rocksdb::Status::NotFound(msg);
  if (s.IsNotSupported()) return rocksdb::Status::NotSupported(msg);
  if (s.IsInvalidArgument()) return rocksdb::Status::InvalidArgument(msg);
  if (s.IsBusy()) return rocksdb::Status::Busy(msg);
  if (s.IsAborted()) return rocksdb::Status::Aborted(msg);
  return rocksdb::Status::IOError(msg);
}

Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return Status::OK();
  const std::string msg = s.ToString();
  if (s.IsCorruption()) return Status::Corruption(msg);
  if (s.IsNotFound()) return Status::NotFound(msg);
  if (s.IsNotSupported()) return Status::NotSupported(msg);
  if (s.IsInvalidArgument()) return Status::InvalidArgument(msg);
  if (s.IsBusy() || s.IsTryAgain()) return Status::Busy(msg);
  if (s.IsAborted()) return Status::Aborted(msg);
  return Status::IOError(msg);
}

Status RocksRandomAccessFile::Read(uint64_t offset, size_t n, Slice* result, char* scratch) const {
  if (offset >= size_) {
    *result = Slice(scratch, 0);
    return Status::OK();
  }
  n = static_cast<size_t>(std::min<uint64_t>(n, size_ - offset));
  rocksdb::Slice r;
  // Direct I/O reads go through the reader's own aligned buffer and land in scratch; mmap
  // reads may point into the mapping (learnkv's block reader copies what it keeps).
  const rocksdb::IOStatus s = file_->Read(rocksdb::IOOptions(), offset, n, &r, scratch,
                                          /*aligned_buf=*/nullptr, rocksdb::Env::IO_TOTAL);
  if (!s.ok()) return FromRocks(s);
  *result = FromRocks(r);
  return Status::OK();
}

Status RocksWritableFile::Remember(const rocksdb::IOStatus& s) {
  if (s.ok()) return Status::OK();
  if (io_status_.ok()) io_status_ = s;
  return FromRocks(s);
}

Status RocksWritableFile::Append(const Slice& data) {
  return Remember(file_->Append(ToRocks(data)));
}

Status RocksWritableFile::Flush() { return Remember(file_->Flush()); }

}  // namespace learnkv
