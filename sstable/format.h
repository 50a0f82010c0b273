// The table file's fixed pieces: block handles, the footer, the block trailer (compression type
// and checksum), and reading one block from a file with every check a hostile file needs.
// The whole layout is drawn in table_builder.cc and docs/table_format.md.
//
// Thread safety: value types and pure functions; ReadBlock may be called concurrently on one
// RandomAccessFile.
#ifndef LEARNKV_SSTABLE_FORMAT_H_
#define LEARNKV_SSTABLE_FORMAT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "learnkv/env.h"
#include "learnkv/slice.h"
#include "learnkv/status.h"
#include "learnkv/table_options.h"

namespace learnkv {

// "learnkv!" in the file's last eight bytes; tells our tables from LevelDB's and RocksDB's.
constexpr uint64_t kTableMagicNumber = 0x21766b6e7261656cull;
// Bumped on any incompatible layout change; readers reject other versions.
constexpr uint16_t kTableFormatVersion = 1;

// Every block is followed by a 1-byte compression type and a 4-byte masked checksum of the
// stored contents plus the type byte.
constexpr size_t kBlockTrailerSize = 5;
// Compressed blocks start with their uncompressed size; larger blocks are stored raw, which
// also bounds what a hostile file can make a reader allocate.
constexpr size_t kMaxCompressedBlockSize = size_t{64} << 20;

// Names of meta blocks in the metaindex. New optional blocks (the learned Bloom filter will be
// "learnkv.filter") get new names; readers ignore names they do not know.
inline constexpr char kPropertiesBlockName[] = "learnkv.properties";
inline constexpr char kFilterBlockName[] = "learnkv.filter";

// Where a block lives: its offset in the file and the size of its stored contents (without
// the trailer).
struct BlockHandle {
  uint64_t offset = 0;
  uint64_t size = 0;

  void EncodeTo(std::string* dst) const;  // two varint64s
  // Consumes from the front of *input; false if malformed.
  bool DecodeFrom(Slice* input);
  // True if the block and its trailer lie within [0, limit), without overflow.
  bool FitsWithin(uint64_t limit) const {
    return offset <= limit && size <= limit - offset && kBlockTrailerSize <= limit - offset - size;
  }
};

// The fixed-size end of every table:
//
//   0   fixed64  metaindex offset      8  fixed64  metaindex size
//   16  fixed64  index offset          24 fixed64  index size
//   32  u8 index type (1 learned model block, 2 block index)   33  u8 reserved (0)
//   34  fixed16  format version        36 fixed32  masked checksum of bytes [0, 36)
//   40  fixed64  magic number
struct Footer {
  static constexpr size_t kEncodedLength = 48;

  BlockHandle metaindex;
  BlockHandle index;
  IndexType index_type = IndexType::kBlock;

  void EncodeTo(std::string* dst) const;
  // input holds exactly kEncodedLength bytes. Corruption describes what is wrong, without a
  // file name (the caller adds it).
  Status DecodeFrom(const Slice& input);
};

// A block's uncompressed contents, owned.
struct BlockContents {
  std::unique_ptr<char[]> data;
  size_t size = 0;
};

// Appends to *out the bytes stored for `raw` under `type` (the uncompressed size varint plus
// the compressed stream) and returns true, or returns false when the block should be stored
// raw: compression off, not saving min_saving of the size, or the block too large.
bool CompressBlock(CompressionType type, int zstd_level, double min_saving, const Slice& raw,
                   std::string* out);

// Reads the block at `handle` (which must fit in the file) and its trailer, verifies the
// checksum when asked, and decompresses it. Errors name file_name and the block's offset.
Status ReadBlock(const RandomAccessFile* file, const std::string& file_name,
                 const BlockHandle& handle, bool verify_checksum, BlockContents* result);

// "file_name: what at offset N", the shape of every Corruption the reader returns.
Status CorruptionAt(const std::string& file_name, const char* what, uint64_t offset);

}  // namespace learnkv

#endif  // LEARNKV_SSTABLE_FORMAT_H_
