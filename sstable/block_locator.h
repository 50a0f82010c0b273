// BlockLocator: where each data block starts, in a fraction of a byte per block, so that the
// learned index (whose job is to replace the ~25-byte-per-block classic index) leads from a
// record ordinal to the bytes of its block. Data blocks are contiguous from offset 0, so start
// offsets o_0 = 0 < o_1 < ... < o_M (o_M = end of the data) locate every block: block i is
// [o_i, o_{i+1}). With a fixed number of records per block the offsets grow almost linearly:
// they are stored as residuals from o ≈ slope · i, bit-packed in groups of 64 blocks, each
// group with its own base, bit width and byte offset, so any o_i is decoded in O(1):
//
//   varint64 num_blocks M | fixed64 slope (bytes per block, Q16 fixed point)
//   G = ceil((M + 1) / 64) group headers of 13 bytes:
//       fixed64 base (two's complement) | fixed32 byte offset of the group's bits | u8 width w
//   packed bits: group g holds 64 values of w_g bits, LSB first (8·w_g bytes); 8 zero bytes
//
//   o_i = floor(i · slope / 2^16) + base_g + value_g[i mod 64],   g = i / 64
//
// Thread safety: BlockLocatorBuilder is single-threaded; a BlockLocator is immutable and its
// const methods may be called concurrently.
#ifndef LEARNKV_SSTABLE_BLOCK_LOCATOR_H_
#define LEARNKV_SSTABLE_BLOCK_LOCATOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "learnkv/slice.h"
#include "learnkv/status.h"
#include "sstable/format.h"
#include "util/coding.h"

namespace learnkv {

class BlockLocatorBuilder {
 public:
  // Block starts, ascending, the first 0, then (through Finish) the end of the last block.
  void AddBlockStart(uint64_t offset) { offsets_.push_back(offset); }
  uint64_t num_blocks() const { return offsets_.size(); }
  // Appends the encoding of the blocks added plus the end of the data to *dst.
  void Finish(uint64_t data_end, std::string* dst);

 private:
  std::vector<uint64_t> offsets_;
};

class BlockLocator {
 public:
  static constexpr uint32_t kGroupSize = 64;
  static constexpr size_t kGroupHeaderSize = 13;

  BlockLocator() = default;

  // Consumes the encoding from the front of *input (the locator keeps pointing into its
  // bytes: they must outlive it). Decodes every offset once and checks that they start at 0,
  // that every block is at least an empty block plus its trailer, and that they end exactly
  // at data_end. Corruption describes the fault, without a file name.
  Status DecodeFrom(Slice* input, uint64_t data_end);

  uint64_t num_blocks() const { return num_blocks_; }

  // Start of block i; i == num_blocks() gives the end of the data. REQUIRES: i <= num_blocks().
  uint64_t Offset(uint64_t i) const {
    const char* group = headers_ + (i / kGroupSize) * kGroupHeaderSize;
    const uint64_t base = DecodeFixed64(group);
    const uint32_t byte_offset = DecodeFixed32(group + 8);
    const uint32_t width = static_cast<uint8_t>(group[12]);
    const uint64_t bit = (i % kGroupSize) * width;
    // The 8 padding bytes make this load safe for the last group; width <= 56 fits it.
    const uint64_t word = DecodeFixed64(bits_ + byte_offset + bit / 8);
    const uint64_t value = (word >> (bit % 8)) & ((uint64_t{1} << width) - 1);
    return Predict(i, slope_) + base + value;  // unsigned wrap-around is the intended int64 sum
  }
  BlockHandle Handle(uint64_t i) const {
    const uint64_t begin = Offset(i);
    return BlockHandle{begin, Offset(i + 1) - begin - kBlockTrailerSize};
  }

  // Bytes of the encoding (what the locator costs in memory, pointing into its block).
  size_t encoded_size() const { return encoded_size_; }

  static uint64_t Predict(uint64_t i, uint64_t slope) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(i) * slope) >> 16);
  }

 private:
  uint64_t num_blocks_ = 0;
  uint64_t slope_ = 0;
  const char* headers_ = nullptr;
  const char* bits_ = nullptr;
  size_t encoded_size_ = 0;
};

}  // namespace learnkv

#endif  // LEARNKV_SSTABLE_BLOCK_LOCATOR_H_
