// Table file layout:
//
//   offset 0
//   +------------------------------+  Data blocks: record blocks (block_builder.cc) of exactly
//   | data block 0 | trailer       |  R records each (the last may hold fewer), back to back,
//   | data block 1 | trailer       |  so block i holds record ordinals [iR, (i+1)R) and
//   | ...                          |  starts where block i-1 ends.
//   +------------------------------+
//   | index block | trailer        |  learned: the model block; or the classic index block
//   +------------------------------+
//   | filter block | trailer       |  optional: membership filter of the user keys
//   +------------------------------+  (learned/filter_policy.cc; docs/filters.md)
//   | properties block | trailer   |  named records (table_properties.cc)
//   +------------------------------+
//   | metaindex block | trailer    |  meta block name -> BlockHandle ("learnkv.filter" when
//   +------------------------------+  there is a filter, "learnkv.properties")
//   | footer (48 bytes)            |  handles of metaindex and index, index type, version,
//   +------------------------------+  checksum, magic (format.h)
//
//   trailer = u8 compression type | fixed32 masked XXH3 of (stored contents ++ type byte)
//
// Model block (index type kLearned), uncompressed:
//
//   varint64 num_entries n | varint64 records_per_block R
//   KeyMapper: prefix and per-byte digit ranges              (learned/key_mapping.h)
//   varint32 model size | RMI encoding                      (learned/rmi.h; own checksum)
//   block locator: start offset of every data block         (block_locator.h)
//
// Classic index block (index type kBlock): a record block with one record per data block, in
// order: key = a short internal key k with last(block i) <= k < first(block i+1) (the last
// block's own last key), value = BlockHandle of block i as two varint64s.
//
// Both indexes lead to the same data blocks, so kAuto can decide at Finish which to write, from
// what the model measured about itself.
#include "sstable/table_builder.h"

#include <cassert>
#include <cmath>
#include <cstdio>

#include "learned/key_mapping.h"
#include "sstable/internal_key.h"
#include "util/checksum.h"
#include "util/coding.h"

namespace learnkv {

namespace {

// A cap on records per block keeps offsets and counts far from their field limits.
constexpr uint64_t kMaxRecordsPerBlock = uint64_t{1} << 20;

uint64_t MicrosSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

// A short internal key s with a <= s < b for the classic index, as LevelDB's
// FindShortestSeparator: when the user keys first differ at byte i and a's byte there can be
// incremented while staying below b's, the separator is that prefix with the incremented
// byte, plus the trailer that sorts first among its user key. REQUIRES: a < b.
void ShortSeparator(const Slice& a, const Slice& b, std::string* out) {
  const Slice ua = ExtractUserKey(a), ub = ExtractUserKey(b);
  const size_t limit = std::min(ua.size(), ub.size());
  size_t i = 0;
  while (i < limit && ua[i] == ub[i]) ++i;
  if (i < limit) {
    const uint8_t c = static_cast<uint8_t>(ua[i]);
    if (c < 0xff && c + 1 < static_cast<uint8_t>(ub[i])) {
      out->assign(ua.data(), i);
      out->push_back(static_cast<char>(c + 1));
      PutFixed64(out, PackSequenceAndType(kMaxSequenceNumber, kValueTypeForSeek));
      return;
    }
  }
  out->assign(a.data(), a.size());
}

}  // namespace

TableBuilder::TableBuilder(const TableOptions& options, WritableFile* file)
    : options_(options),
      file_(file),
      start_(std::chrono::steady_clock::now()),
      collect_model_keys_(options.index_type != IndexType::kBlock),
      no_model_reason_("the table has no entries") {
  props_.compression = options.compression;
  if (options.filter.type != FilterType::kNone) {
    filter_ = std::make_unique<FilterBuilder>(options.filter);
  }
}

TableBuilder::~TableBuilder() { assert(closed_); }

void TableBuilder::Add(const Slice& key, const Slice& value) {
  assert(!closed_);
  if (!status_.ok()) return;
  if (key.size() < kInternalKeyTrailerSize) {
    status_ = Status::InvalidArgument("table key shorter than an internal-key trailer");
    return;
  }
  if (props_.num_entries > 0 && CompareInternalKeys(key, last_key_) <= 0) {
    status_ = Status::InvalidArgument("table keys added out of order");
    return;
  }
  const size_t size_with = data_block_.SizeWith(key.size(), value.size());
  if (size_with > UINT32_MAX / 2) {
    status_ = Status::InvalidArgument("record too large for a table block");
    return;
  }
  if (records_per_block_ == 0 && !data_block_.empty() &&
      (size_with > options_.block_size || data_block_.num_records() == kMaxRecordsPerBlock)) {
    records_per_block_ = data_block_.num_records();
    FlushDataBlock();
  }
  if (pending_index_entry_) AddPendingIndexEntry(&key);
  if (props_.num_entries == 0) props_.smallest_key.assign(key.data(), key.size());
  if (collect_model_keys_) MapUserKey(ExtractUserKey(key));
  if (filter_ != nullptr) filter_->AddKey(ExtractUserKey(key));

  data_block_.Add(key, value);
  last_key_.assign(key.data(), key.size());
  props_.num_entries++;
  props_.raw_key_bytes += key.size();
  props_.raw_value_bytes += value.size();
  if (data_block_.num_records() == records_per_block_) FlushDataBlock();
}

void TableBuilder::MapUserKey(const Slice& user_key) {
  if (model_keys_.num_keys() + 1 >= RmiBuilder::kMaxKeys) {
    collect_model_keys_ = false;
    no_model_reason_ = "too many entries for the model";
    model_keys_.Clear();
    return;
  }
  model_keys_.Add(user_key);
}

BlockHandle TableBuilder::WriteBlock(const Slice& contents, CompressionType type) {
  compressed_.clear();
  Slice stored = contents;
  if (CompressBlock(type, options_.zstd_level, options_.min_compression_saving, contents,
                    &compressed_)) {
    stored = compressed_;
  } else {
    type = CompressionType::kNone;
  }
  char trailer[kBlockTrailerSize];
  trailer[0] = static_cast<char>(type);
  const uint32_t crc = Checksum32(stored.data(), stored.size(), trailer, 1);
  EncodeFixed32(trailer + 1, MaskChecksum(crc));

  BlockHandle handle{offset_, stored.size()};
  if (status_.ok()) status_ = file_->Append(stored);
  if (status_.ok()) status_ = file_->Append(Slice(trailer, kBlockTrailerSize));
  if (status_.ok()) offset_ += stored.size() + kBlockTrailerSize;
  if (type != CompressionType::kNone) props_.num_compressed_blocks++;
  return handle;
}

void TableBuilder::FlushDataBlock() {
  const BlockHandle handle = WriteBlock(data_block_.Finish(), options_.compression);
  data_block_.Reset();
  locator_.AddBlockStart(handle.offset);
  props_.num_data_blocks++;
  pending_index_entry_ = true;
  pending_handle_ = handle;
}

void TableBuilder::AddPendingIndexEntry(const Slice* next_key) {
  pending_index_entry_ = false;
  std::string separator;
  if (next_key != nullptr) {
    ShortSeparator(last_key_, *next_key, &separator);
  } else {
    separator = last_key_;
  }
  std::string handle;
  pending_handle_.EncodeTo(&handle);
  index_block_.Add(separator, handle);
}

std::unique_ptr<Rmi> TableBuilder::TrainModel(size_t other_index_bytes) {
  const auto start = std::chrono::steady_clock::now();
  RmiOptions rmi_options = options_.rmi;
  if (options_.max_learned_index_ratio > 0) {
    // The classic index of this table is known (it was collected alongside); what the target
    // leaves after the locator and the block header is the model's.
    const double budget = options_.max_learned_index_ratio * index_block_.SizeWith(0, 0) -
                          static_cast<double>(other_index_bytes);
    const double per_key =
        std::max(0.0, budget) / static_cast<double>(model_keys_.num_keys());
    if (rmi_options.max_bytes_per_key <= 0 || per_key < rmi_options.max_bytes_per_key) {
      // A tiny positive budget still means "as small as possible" (0 would mean "no limit").
      rmi_options.max_bytes_per_key = std::max(per_key, 1e-9);
    }
  }
  // Mapping every key (now that the prefix and byte ranges are known) is part of training.
  std::vector<uint64_t> mapped;
  mapper_ = model_keys_.Finish(&mapped);
  RmiBuilder builder(rmi_options, std::move(mapped));
  std::unique_ptr<Rmi> model = builder.Finish();
  props_.training_micros = MicrosSince(start);
  return model;
}

void TableBuilder::ChooseIndex(const Rmi* model) {
  const double r = static_cast<double>(props_.records_per_block);
  const double blocks = static_cast<double>(props_.num_data_blocks);
  if (model != nullptr) {
    const RmiStats& st = model->stats();
    props_.rmi_leaf_count = st.num_leaves;
    props_.rmi_root_kind = st.root_kind;
    props_.rmi_max_error = st.max_abs_error;
    props_.rmi_mean_error = st.mean_abs_error;
    props_.rmi_max_window = st.max_window;
    props_.rmi_mean_window = st.mean_window;
    // Learned: one model evaluation (~2 comparisons), the blocks between the predicted
    // record's block and the answer's (the search starts at the prediction), and a binary
    // search over the window. Classic: a binary search over the block index, one block, and a
    // binary search inside it.
    const double learned_blocks = 1.0 + st.mean_abs_error / r;
    props_.learned_cost =
        2.0 + learned_blocks * options_.block_touch_cost + std::max(1.0, st.mean_log2_window);
    props_.block_cost =
        std::log2(std::max(2.0, blocks)) + options_.block_touch_cost + std::log2(std::max(2.0, r));
  }
  if (options_.index_type == IndexType::kBlock) {
    props_.index_type = IndexType::kBlock;
    props_.fallback_reason = "index_type is kBlock";
  } else if (model == nullptr) {
    props_.index_type = IndexType::kBlock;
    props_.fallback_reason = "no model: " + no_model_reason_;
  } else if (options_.index_type == IndexType::kAuto && props_.block_cost < props_.learned_cost) {
    props_.index_type = IndexType::kBlock;
    char reason[200];
    snprintf(reason, sizeof(reason),
             "rmi mean window %.0f records spans %.1f blocks; block index cheaper "
             "(%.1f vs %.1f comparisons per lookup)",
             props_.rmi_mean_window, props_.rmi_mean_window / r, props_.block_cost,
             props_.learned_cost);
    props_.fallback_reason = reason;
  } else {
    props_.index_type = IndexType::kLearned;
  }
}

void TableBuilder::WriteModelBlock(const Rmi& model, const std::string& locator,
                                   BlockHandle* handle) {
  std::string contents;
  PutVarint64(&contents, props_.num_entries);
  PutVarint64(&contents, props_.records_per_block);
  mapper_.EncodeTo(&contents);
  std::string rmi;
  model.EncodeTo(&rmi);
  PutLengthPrefixedSlice(&contents, rmi);
  contents.append(locator);
  *handle = WriteBlock(contents, CompressionType::kNone);
}

Status TableBuilder::Finish() {
  assert(!closed_);
  closed_ = true;
  if (!status_.ok()) return status_;
  if (!data_block_.empty()) {
    if (records_per_block_ == 0) records_per_block_ = data_block_.num_records();
    FlushDataBlock();
  }
  if (pending_index_entry_) AddPendingIndexEntry(nullptr);
  props_.records_per_block = std::max<uint64_t>(records_per_block_, 1);
  props_.data_bytes = offset_;
  props_.largest_key = last_key_;

  std::unique_ptr<Rmi> model;
  std::string locator;
  if (collect_model_keys_ && props_.num_entries > 0) {
    locator_.Finish(props_.data_bytes, &locator);
    // Besides the leaves and root that the RMI's budget covers: the model block header (two
    // varints, the mapper's prefix and digit ranges) and the RMI's own fixed header and
    // checksum.
    constexpr size_t kFixedModelBytes = 2 * 10 + 5 + 4 + 2 * KeyMapper::kMaxDigits + 5 + 36;
    model = TrainModel(locator.size() + model_keys_.prefix_len() + kFixedModelBytes);
  }
  ChooseIndex(model.get());

  Footer footer;
  footer.index_type = props_.index_type;
  if (props_.index_type == IndexType::kLearned) {
    WriteModelBlock(*model, locator, &footer.index);
  } else {
    footer.index = WriteBlock(index_block_.Finish(), CompressionType::kNone);
  }
  props_.index_bytes = footer.index.size;

  BlockHandle filter_handle;
  if (filter_ != nullptr) WriteFilterBlock(&filter_handle);
  props_.build_micros = MicrosSince(start_);

  BlockBuilder properties;
  props_.EncodeTo(&properties);
  const BlockHandle properties_handle = WriteBlock(properties.Finish(), CompressionType::kNone);

  // Names in sorted order.
  BlockBuilder metaindex;
  std::string handle_encoding;
  if (filter_ != nullptr) {
    filter_handle.EncodeTo(&handle_encoding);
    metaindex.Add(kFilterBlockName, handle_encoding);
    handle_encoding.clear();
  }
  properties_handle.EncodeTo(&handle_encoding);
  metaindex.Add(kPropertiesBlockName, handle_encoding);
  footer.metaindex = WriteBlock(metaindex.Finish(), CompressionType::kNone);

  std::string footer_encoding;
  footer.EncodeTo(&footer_encoding);
  if (status_.ok()) status_ = file_->Append(footer_encoding);
  if (status_.ok()) offset_ += footer_encoding.size();
  return status_;
}

void TableBuilder::WriteFilterBlock(BlockHandle* handle) {
  std::string block;
  FilterReport r;
  filter_->Finish(&block, &r);
  *handle = WriteBlock(block, CompressionType::kNone);
  props_.filter_kind = r.kind;
  props_.filter_bytes = r.bytes;
  props_.filter_num_keys = r.num_keys;
  props_.filter_bits_per_key = r.bits_per_key;
  props_.filter_target_fpr = r.target_fpr;
  props_.filter_measured_fpr = r.measured_fpr;
  props_.filter_heldout_negatives = r.heldout_negatives;
  props_.filter_negatives = r.negatives;
  props_.filter_classic_bytes = r.classic_bytes;
  props_.filter_learned_bytes = r.learned_bytes;
  props_.filter_model_bytes = r.model_bytes;
  props_.filter_model_fpr = r.model_fpr;
  props_.filter_model_fnr = r.model_fnr;
  props_.filter_reason = r.reason;
  props_.filter_detail = r.detail;
  props_.filter_micros = r.build_micros;
}

void TableBuilder::Abandon() {
  assert(!closed_);
  closed_ = true;
}

}  // namespace learnkv
