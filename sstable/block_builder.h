// BlockBuilder: builds one record block — the format shared by data blocks, the classic index
// block, the properties block and the metaindex (layout drawn in block_builder.cc). Records are
// stored whole (no prefix compression) behind an array of record offsets, so that record k of
// a block is found directly: the learned index predicts record ordinals, not byte positions.
//
// Thread safety: single-threaded.
#ifndef LEARNKV_SSTABLE_BLOCK_BUILDER_H_
#define LEARNKV_SSTABLE_BLOCK_BUILDER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "learnkv/slice.h"

namespace learnkv {

class BlockBuilder {
 public:
  BlockBuilder() = default;
  BlockBuilder(const BlockBuilder&) = delete;
  BlockBuilder& operator=(const BlockBuilder&) = delete;

  // Appends a record. The builder does not check key order; callers do.
  // REQUIRES: Finish() not called since the last Reset().
  void Add(const Slice& key, const Slice& value);

  // Appends the offset array and the record count; returns the block's contents, valid until
  // the next Reset().
  Slice Finish();

  // Empties the builder for the next block.
  void Reset();

  // Size of the block if it were finished now, plus a record of the given sizes.
  size_t SizeWith(size_t key_size, size_t value_size) const;

  uint32_t num_records() const { return static_cast<uint32_t>(offsets_.size()); }
  bool empty() const { return offsets_.empty(); }

 private:
  static size_t RecordOverhead(size_t key_size, size_t value_size);

  std::string buffer_;
  std::vector<uint32_t> offsets_;
  bool finished_ = false;
};

}  // namespace learnkv

#endif  // LEARNKV_SSTABLE_BLOCK_BUILDER_H_
