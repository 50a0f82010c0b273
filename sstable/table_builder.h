// TableBuilder: writes one immutable table file from internal keys added in order. It streams
// data blocks of a fixed number of records to the file while collecting what both indexes
// need — the mapped keys for the learned model and a separator per block for the classic
// index — and at Finish() writes whichever index TableOptions::index_type asks for (kAuto: the
// one a cost estimate prefers), then the membership filter over its user keys (the learned or a
// classic one, as TableOptions::filter asks; learned/filter_policy.h), the properties, the
// metaindex and the footer. The file layout is drawn in table_builder.cc.
//
// Errors: the first failure (an I/O error, or keys out of order) is remembered in status();
// later calls do nothing.
//
// Thread safety: single-threaded. The WritableFile is borrowed: the caller keeps it open until
// Finish() or Abandon() returns, then syncs and closes it.
#ifndef LEARNKV_SSTABLE_TABLE_BUILDER_H_
#define LEARNKV_SSTABLE_TABLE_BUILDER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "learned/filter_policy.h"
#include "learned/key_mapping.h"
#include "learned/rmi.h"
#include "learnkv/env.h"
#include "learnkv/status.h"
#include "learnkv/table_options.h"
#include "sstable/block_builder.h"
#include "sstable/block_locator.h"
#include "sstable/format.h"
#include "sstable/table_properties.h"

namespace learnkv {

class TableBuilder {
 public:
  TableBuilder(const TableOptions& options, WritableFile* file);
  TableBuilder(const TableBuilder&) = delete;
  TableBuilder& operator=(const TableBuilder&) = delete;
  // REQUIRES: Finish() or Abandon() was called.
  ~TableBuilder();

  // Adds an entry. key is an internal key (sstable/internal_key.h) greater than every key
  // added before, in internal-key order. A key without a trailer or out of order sets
  // status() to InvalidArgument. REQUIRES: Finish() and Abandon() not called.
  void Add(const Slice& key, const Slice& value);

  // Writes the rest of the table. The file then holds a complete table iff the result is OK.
  // REQUIRES: Finish() and Abandon() not called.
  Status Finish();

  // Stops building; the caller deletes the partial file. REQUIRES: as Finish().
  void Abandon();

  Status status() const { return status_; }
  uint64_t NumEntries() const { return props_.num_entries; }
  // Bytes written so far: the final file size once Finish() succeeded.
  uint64_t FileSize() const { return offset_; }
  // What was built; complete after a successful Finish().
  const TableProperties& properties() const { return props_; }

 private:
  void MapUserKey(const Slice& user_key);
  void FlushDataBlock();
  BlockHandle WriteBlock(const Slice& contents, CompressionType type);
  void AddPendingIndexEntry(const Slice* next_key);
  // other_index_bytes: the rest of the model block, for the size target.
  std::unique_ptr<Rmi> TrainModel(size_t other_index_bytes);
  void ChooseIndex(const Rmi* model);
  void WriteModelBlock(const Rmi& model, const std::string& locator, BlockHandle* handle);
  // Builds and writes the filter block, recording the filter in the properties.
  void WriteFilterBlock(BlockHandle* handle);

  const TableOptions options_;
  WritableFile* const file_;
  Status status_;
  uint64_t offset_ = 0;
  bool closed_ = false;
  std::chrono::steady_clock::time_point start_;

  TableProperties props_;
  std::string last_key_;
  BlockBuilder data_block_;
  uint64_t records_per_block_ = 0;  // 0 until the first block is cut
  std::string compressed_;          // scratch for compression

  // Classic index: filled while writing; the entry of a block is added once the next key (or
  // the end) is known, so that its separator can be short.
  BlockBuilder index_block_;
  bool pending_index_entry_ = false;
  BlockHandle pending_handle_;

  // Learned index.
  BlockLocatorBuilder locator_;
  bool collect_model_keys_;
  std::string no_model_reason_;  // the fallback reason when no model gets trained
  // The user keys for the model. The table's mapper depends on every key (common prefix, byte
  // ranges), so it is known only at the end; the keys are mapped in TrainModel.
  KeyMapperBuilder model_keys_;
  KeyMapper mapper_;  // set by TrainModel

  // Membership filter; null when TableOptions::filter.type is kNone.
  std::unique_ptr<FilterBuilder> filter_;
};

}  // namespace learnkv

#endif  // LEARNKV_SSTABLE_TABLE_BUILDER_H_
