// Block locator encoding (layout in block_locator.h).
//
// Why residuals from a line: with R records per block, block sizes vary only with key/value
// sizes and compression, so o_i - slope·i stays small and a group of 64 needs a few bits per
// block (0 bits for fixed-size uncompressed records), against ~25 bytes per block for a
// classic index entry. The per-group base absorbs drift, so the line need not be a
// least-squares fit; the end points give it.
#include "sstable/block_locator.h"

#include <algorithm>
#include <cassert>

namespace learnkv {

namespace {

int BitsFor(uint64_t v) { return v == 0 ? 0 : 64 - __builtin_clzll(v); }

}  // namespace

void BlockLocatorBuilder::Finish(uint64_t data_end, std::string* dst) {
  std::vector<uint64_t> o = std::move(offsets_);
  offsets_.clear();
  o.push_back(data_end);
  const uint64_t num_blocks = o.size() - 1;
  const uint64_t slope =
      num_blocks == 0
          ? 0
          : static_cast<uint64_t>((static_cast<unsigned __int128>(data_end) << 16) / num_blocks);
  PutVarint64(dst, num_blocks);
  PutFixed64(dst, slope);

  const size_t num_groups = (o.size() + BlockLocator::kGroupSize - 1) / BlockLocator::kGroupSize;
  std::string bits;
  for (size_t g = 0; g < num_groups; ++g) {
    const size_t begin = g * BlockLocator::kGroupSize;
    const size_t end = std::min(o.size(), begin + BlockLocator::kGroupSize);
    // Residuals as int64 (two's complement through uint64 arithmetic).
    int64_t base = INT64_MAX;
    for (size_t i = begin; i < end; ++i) {
      base = std::min(base, static_cast<int64_t>(o[i] - BlockLocator::Predict(i, slope)));
    }
    uint64_t max_value = 0;
    for (size_t i = begin; i < end; ++i) {
      const uint64_t value = o[i] - BlockLocator::Predict(i, slope) - static_cast<uint64_t>(base);
      max_value = std::max(max_value, value);
    }
    const int width = BitsFor(max_value);
    assert(width <= 56);  // a spread of 2^56 bytes within one table is not a real file

    PutFixed64(dst, static_cast<uint64_t>(base));
    PutFixed32(dst, static_cast<uint32_t>(bits.size()));
    dst->push_back(static_cast<char>(width));

    std::string group(8 * size_t(width) + 8, '\0');  // +8: slack for the 8-byte stores
    for (size_t i = begin; i < end; ++i) {
      const uint64_t value = o[i] - BlockLocator::Predict(i, slope) - static_cast<uint64_t>(base);
      const uint64_t bit = (i - begin) * width;
      char* p = group.data() + bit / 8;
      EncodeFixed64(p, DecodeFixed64(p) | (value << (bit % 8)));
    }
    bits.append(group.data(), 8 * size_t(width));
  }
  bits.append(8, '\0');
  dst->append(bits);
}

Status BlockLocator::DecodeFrom(Slice* input, uint64_t data_end) {
  const size_t start_size = input->size();
  uint64_t num_blocks = 0, slope = 0;
  if (!GetVarint64(input, &num_blocks) || !GetFixed64(input, &slope)) {
    return Status::Corruption("block locator: truncated header");
  }
  const uint64_t num_groups = num_blocks / kGroupSize + 1;  // ceil((M + 1) / 64), no overflow
  if (num_groups > input->size() / kGroupHeaderSize) {
    return Status::Corruption("block locator: truncated group headers");
  }
  const char* headers = input->data();
  input->remove_prefix(num_groups * kGroupHeaderSize);
  uint64_t bits_size = 0;
  for (uint64_t g = 0; g < num_groups; ++g) {
    const char* h = headers + g * kGroupHeaderSize;
    const uint32_t width = static_cast<uint8_t>(h[12]);
    if (width > 56 || DecodeFixed32(h + 8) != bits_size) {
      return Status::Corruption("block locator: bad group header");
    }
    bits_size += 8 * width;
  }
  if (input->size() < bits_size + 8) return Status::Corruption("block locator: truncated bits");
  num_blocks_ = num_blocks;
  slope_ = slope;
  headers_ = headers;
  bits_ = input->data();
  input->remove_prefix(bits_size + 8);
  encoded_size_ = start_size - input->size();

  // One pass over every offset now lets lookups trust them.
  uint64_t prev = Offset(0);
  if (prev != 0) return Status::Corruption("block locator: first block does not start at 0");
  for (uint64_t i = 1; i <= num_blocks; ++i) {
    const uint64_t o = Offset(i);
    if (o < prev || o - prev < kBlockTrailerSize + 4) {
      return Status::Corruption("block locator: block offsets not increasing");
    }
    prev = o;
  }
  if (prev != data_end)
    return Status::Corruption("block locator: blocks do not end at the data end");
  return Status::OK();
}

}  // namespace learnkv
