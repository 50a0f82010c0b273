// Footer, block handles, block trailers and compression (see format.h).
#include "sstable/format.h"

#include <lz4.h>
#include <zstd.h>

#include <cstring>

#include "util/checksum.h"
#include "util/coding.h"

namespace learnkv {

const char* CompressionTypeName(CompressionType type) {
  switch (type) {
    case CompressionType::kNone:
      return "none";
    case CompressionType::kLz4:
      return "lz4";
    case CompressionType::kZstd:
      return "zstd";
  }
  return "unknown";
}

const char* IndexTypeName(IndexType type) {
  switch (type) {
    case IndexType::kAuto:
      return "auto";
    case IndexType::kLearned:
      return "learned";
    case IndexType::kBlock:
      return "block";
  }
  return "unknown";
}

Status CorruptionAt(const std::string& file_name, const char* what, uint64_t offset) {
  return Status::Corruption(file_name + ": " + what + " at offset " + std::to_string(offset));
}

void BlockHandle::EncodeTo(std::string* dst) const {
  PutVarint64(dst, offset);
  PutVarint64(dst, size);
}

bool BlockHandle::DecodeFrom(Slice* input) {
  return GetVarint64(input, &offset) && GetVarint64(input, &size);
}

namespace {

constexpr size_t kFooterChecksumOffset = 36;

// zstd's one-shot calls set up (and allocate) a fresh context each time, which costs more than
// a small block's (de)compression; each thread keeps one of each instead.
struct ZstdContexts {
  ZSTD_CCtx* compress = ZSTD_createCCtx();
  ZSTD_DCtx* decompress = ZSTD_createDCtx();
  ~ZstdContexts() {
    ZSTD_freeCCtx(compress);
    ZSTD_freeDCtx(decompress);
  }
};

ZstdContexts& ThreadZstd() {
  thread_local ZstdContexts contexts;
  return contexts;
}

}  // namespace

void Footer::EncodeTo(std::string* dst) const {
  char buf[kEncodedLength];
  EncodeFixed64(buf, metaindex.offset);
  EncodeFixed64(buf + 8, metaindex.size);
  EncodeFixed64(buf + 16, index.offset);
  EncodeFixed64(buf + 24, index.size);
  buf[32] = static_cast<char>(index_type);
  buf[33] = 0;
  EncodeFixed16(buf + 34, kTableFormatVersion);
  EncodeFixed32(buf + 36, MaskChecksum(Checksum32(buf, kFooterChecksumOffset)));
  EncodeFixed64(buf + 40, kTableMagicNumber);
  dst->append(buf, sizeof(buf));
}

Status Footer::DecodeFrom(const Slice& input) {
  if (input.size() != kEncodedLength) return Status::Corruption("footer has the wrong size");
  const char* p = input.data();
  // The magic number first: a foreign file deserves "not a table", not "bad checksum".
  if (DecodeFixed64(p + 40) != kTableMagicNumber) {
    return Status::Corruption("not a learnkv table (bad magic number)");
  }
  if (UnmaskChecksum(DecodeFixed32(p + 36)) != Checksum32(p, kFooterChecksumOffset)) {
    return Status::Corruption("footer checksum mismatch");
  }
  const uint16_t version = DecodeFixed16(p + 34);
  if (version != kTableFormatVersion) {
    return Status::Corruption("unsupported table format version " + std::to_string(version));
  }
  const uint8_t type = static_cast<uint8_t>(p[32]);
  if (type != static_cast<uint8_t>(IndexType::kLearned) &&
      type != static_cast<uint8_t>(IndexType::kBlock)) {
    return Status::Corruption("footer names unknown index type " + std::to_string(type));
  }
  if (p[33] != 0) return Status::Corruption("footer reserved byte is not zero");
  metaindex.offset = DecodeFixed64(p);
  metaindex.size = DecodeFixed64(p + 8);
  index.offset = DecodeFixed64(p + 16);
  index.size = DecodeFixed64(p + 24);
  index_type = static_cast<IndexType>(type);
  return Status::OK();
}

bool CompressBlock(CompressionType type, int zstd_level, double min_saving, const Slice& raw,
                   std::string* out) {
  if (type == CompressionType::kNone || raw.size() > kMaxCompressedBlockSize) return false;
  const size_t start = out->size();
  PutVarint32(out, static_cast<uint32_t>(raw.size()));
  const size_t header = out->size() - start;
  size_t written = 0;
  if (type == CompressionType::kLz4) {
    const int bound = LZ4_compressBound(static_cast<int>(raw.size()));
    out->resize(start + header + bound);
    const int n = LZ4_compress_default(raw.data(), out->data() + start + header,
                                       static_cast<int>(raw.size()), bound);
    written = n > 0 ? static_cast<size_t>(n) : 0;
  } else if (type == CompressionType::kZstd) {
    const size_t bound = ZSTD_compressBound(raw.size());
    out->resize(start + header + bound);
    const size_t n = ZSTD_compressCCtx(ThreadZstd().compress, out->data() + start + header, bound,
                                       raw.data(), raw.size(), zstd_level);
    written = ZSTD_isError(n) ? 0 : n;
  }
  const size_t stored = header + written;
  const double limit = static_cast<double>(raw.size()) * (1.0 - min_saving);
  if (written == 0 || static_cast<double>(stored) > limit) {
    out->resize(start);
    return false;
  }
  out->resize(start + stored);
  return true;
}

namespace {

// Decompresses `stored` (uncompressed size varint + stream) into *result.
Status Decompress(CompressionType type, const Slice& stored, const std::string& file_name,
                  uint64_t offset, BlockContents* result) {
  uint32_t raw_size = 0;
  const char* p = GetVarint32Ptr(stored.data(), stored.end(), &raw_size);
  if (p == nullptr || raw_size > kMaxCompressedBlockSize) {
    return CorruptionAt(file_name, "bad uncompressed block size", offset);
  }
  const size_t in_size = stored.end() - p;
  std::unique_ptr<char[]> buf(new char[raw_size == 0 ? 1 : raw_size]);
  bool ok = false;
  if (type == CompressionType::kLz4) {
    const int n =
        LZ4_decompress_safe(p, buf.get(), static_cast<int>(in_size), static_cast<int>(raw_size));
    ok = n >= 0 && static_cast<uint32_t>(n) == raw_size;
  } else {
    const size_t n = ZSTD_decompressDCtx(ThreadZstd().decompress, buf.get(), raw_size, p, in_size);
    ok = !ZSTD_isError(n) && n == raw_size;
  }
  if (!ok) return CorruptionAt(file_name, "corrupted compressed block", offset);
  result->data = std::move(buf);
  result->size = raw_size;
  return Status::OK();
}

}  // namespace

Status ReadBlock(const RandomAccessFile* file, const std::string& file_name,
                 const BlockHandle& handle, bool verify_checksum, BlockContents* result) {
  const size_t n = static_cast<size_t>(handle.size);
  std::unique_ptr<char[]> buf(new char[n + kBlockTrailerSize]);
  Slice contents;
  Status s = file->Read(handle.offset, n + kBlockTrailerSize, &contents, buf.get());
  if (!s.ok()) return s;
  if (contents.size() != n + kBlockTrailerSize) {
    return CorruptionAt(file_name, "truncated block read", handle.offset);
  }
  const char* data = contents.data();
  if (verify_checksum) {
    const uint32_t expected = UnmaskChecksum(DecodeFixed32(data + n + 1));
    if (Checksum32(data, n + 1) != expected) {
      return CorruptionAt(file_name, "block checksum mismatch", handle.offset);
    }
  }
  const auto type = static_cast<CompressionType>(data[n]);
  switch (type) {
    case CompressionType::kNone:
      // Files that serve reads from their own memory (mmap, in-memory) return a pointer into
      // it; the block must own its bytes to outlive the read and live in the cache.
      if (data != buf.get()) memcpy(buf.get(), data, n);
      result->data = std::move(buf);
      result->size = n;
      return Status::OK();
    case CompressionType::kLz4:
    case CompressionType::kZstd:
      return Decompress(type, Slice(data, n), file_name, handle.offset, result);
  }
  return CorruptionAt(file_name, "unknown block compression type", handle.offset);
}

}  // namespace learnkv
