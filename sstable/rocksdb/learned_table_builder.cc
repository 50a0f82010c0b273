// LearnedTableBuilder (learned_table_builder.h); the file layout is drawn in
// learned_table_format.h.
#include "sstable/rocksdb/learned_table_builder.h"

#include <algorithm>
#include <cassert>
#include <cstdio>

#include "db/dbformat.h"
#include "rocksdb/merge_operator.h"
#include "rocksdb/slice_transform.h"
#include "table/format.h"
#include "table/meta_blocks.h"
#include "table/sst_file_writer_collectors.h"

namespace learnkv {

namespace {

// learnkv has LZ4 and ZSTD; RocksDB's other algorithms become LZ4, the closest in speed.
CompressionType LearnkvCompression(rocksdb::CompressionType type) {
  switch (type) {
    case rocksdb::kNoCompression:
      return CompressionType::kNone;
    case rocksdb::kZSTD:
    case rocksdb::kZSTDNotFinalCompression:
      return CompressionType::kZstd;
    default:
      return CompressionType::kLz4;
  }
}

// The names RocksDB's CompressionTypeToString gives these algorithms.
const char* RocksCompressionName(CompressionType type) {
  switch (type) {
    case CompressionType::kNone:
      return "NoCompression";
    case CompressionType::kLz4:
      return "LZ4";
    case CompressionType::kZstd:
      return "ZSTD";
  }
  return "NoCompression";
}

TableOptions BuilderTableOptions(const rocksdb::TableBuilderOptions& tbo,
                                 const LearnedTableOptions& options) {
  TableOptions t = options.table;
  t.compression = LearnkvCompression(tbo.compression_type);
  if (t.compression == CompressionType::kZstd &&
      tbo.compression_opts.level != rocksdb::CompressionOptions::kDefaultCompressionLevel) {
    t.zstd_level = tbo.compression_opts.level;
  }
  t.block_cache.reset();  // a builder reads nothing
  return t;
}

// SstFileWriter's collector marks an external file as version 2, with a global sequence number
// that IngestExternalFile may later overwrite in place; BlockBasedTable then rewrites the keys'
// sequence numbers as it reads them. LearnedTable does neither (its tail checksum covers the
// properties), so its external files say version 1, the format without that field: RocksDB
// ingests them with IngestExternalFileOptions::allow_global_seqno and allow_blocking_flush off,
// where no other data overlaps their keys, and refuses the rest at ingestion (InvalidArgument),
// rather than reading their keys at sequence 0.
void AsExternalFileVersion1(rocksdb::UserCollectedProperties* props) {
  auto version = props->find(rocksdb::ExternalSstFilePropertyNames::kVersion);
  if (version == props->end()) return;
  version->second.clear();
  rocksdb::PutFixed32(&version->second, 1);
  props->erase(rocksdb::ExternalSstFilePropertyNames::kGlobalSeqno);
}

std::string Number(double v) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%.4g", v);
  return buf;
}

}  // namespace

LearnedTableBuilder::LearnedTableBuilder(const rocksdb::TableBuilderOptions& tbo,
                                         const LearnedTableOptions& options,
                                         rocksdb::WritableFileWriter* file)
    : ioptions_(tbo.ioptions),
      writer_(file),
      file_(file),
      table_(BuilderTableOptions(tbo, options), &file_) {
  if (tbo.int_tbl_prop_collector_factories != nullptr) {
    for (const auto& factory : *tbo.int_tbl_prop_collector_factories) {
      collectors_.emplace_back(
          factory->CreateIntTblPropCollector(tbo.column_family_id, tbo.level_at_creation));
    }
  }
  // What BlockBasedTableBuilder records about its build.
  const TableOptions t = BuilderTableOptions(tbo, options);
  props_.format_version = kLearnedTableTailVersion;
  props_.column_family_id = tbo.column_family_id;
  props_.column_family_name = tbo.column_family_name;
  props_.oldest_key_time = tbo.oldest_key_time;
  props_.file_creation_time = tbo.file_creation_time;
  props_.orig_file_number = tbo.cur_file_num;
  props_.db_id = tbo.db_id;
  props_.db_session_id = tbo.db_session_id;
  props_.db_host_id = ioptions_.db_host_id;
  if (!rocksdb::ReifyDbHostIdProperty(ioptions_.env, &props_.db_host_id).ok()) {
    rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, ioptions_.logger,
                 "db_host_id property will not be set");
  }
  props_.comparator_name =
      ioptions_.user_comparator != nullptr ? ioptions_.user_comparator->Name() : "nullptr";
  props_.merge_operator_name =
      ioptions_.merge_operator != nullptr ? ioptions_.merge_operator->Name() : "nullptr";
  props_.prefix_extractor_name = tbo.moptions.prefix_extractor != nullptr
                                     ? tbo.moptions.prefix_extractor->AsString()
                                     : "nullptr";
  std::string names = "[";
  for (size_t i = 0; i < ioptions_.table_properties_collector_factories.size(); ++i) {
    if (i != 0) names += ",";
    names += ioptions_.table_properties_collector_factories[i]->Name();
  }
  props_.property_collectors_names = names + "]";
  props_.compression_name = RocksCompressionName(t.compression);
  props_.compression_options = "learnkv; zstd_level=" + std::to_string(t.zstd_level) +
                               "; min_compression_saving=" + Number(t.min_compression_saving) +
                               "; ";
}

LearnedTableBuilder::~LearnedTableBuilder() {
  // RocksDB calls Finish() or Abandon() first; learnkv's builder requires it too.
  assert(finished_);
  status_.PermitUncheckedError();
}

void LearnedTableBuilder::Add(const rocksdb::Slice& key, const rocksdb::Slice& value) {
  assert(!finished_);
  if (!status_.ok()) return;
  rocksdb::ParsedInternalKey ikey;
  rocksdb::Status s = rocksdb::ParseInternalKey(key, &ikey, /*log_err_key=*/false);
  if (!s.ok()) return SetError(s);
  if (ikey.type == rocksdb::kTypeRangeDeletion) {
    range_tombstones_.emplace_back(key.ToString(), value.ToString());
    props_.num_deletions++;
    props_.num_range_deletions++;
  } else {
    table_.Add(FromRocks(key), FromRocks(value));
    if (!table_.status().ok()) {
      return SetError(!file_.io_status().ok() ? rocksdb::Status(file_.io_status())
                                              : ToRocks(table_.status()));
    }
    if (ikey.type == rocksdb::kTypeDeletion || ikey.type == rocksdb::kTypeSingleDeletion) {
      props_.num_deletions++;
    } else if (ikey.type == rocksdb::kTypeMerge) {
      props_.num_merge_operands++;
    }
  }
  props_.num_entries++;
  props_.raw_key_size += key.size();
  props_.raw_value_size += value.size();
  rocksdb::NotifyCollectTableCollectorsOnAdd(key, value, table_.FileSize(), collectors_,
                                             ioptions_.logger);
}

rocksdb::Status LearnedTableBuilder::Finish() {
  assert(!finished_);
  finished_ = true;
  if (!status_.ok()) {
    table_.Abandon();
    return status_;
  }
  const Status s = table_.Finish();
  if (!s.ok()) {
    SetError(!file_.io_status().ok() ? rocksdb::Status(file_.io_status()) : ToRocks(s));
    return status_;
  }
  CopyTableProperties();
  SetError(WriteTail());
  return status_;
}

void LearnedTableBuilder::Abandon() {
  assert(!finished_);
  finished_ = true;
  table_.Abandon();
}

void LearnedTableBuilder::CopyTableProperties() {
  const learnkv::TableProperties& p = table_.properties();
  props_.data_size = p.data_bytes;
  props_.index_size = p.index_bytes;
  props_.filter_size = p.filter_bytes;
  props_.num_data_blocks = p.num_data_blocks;
  props_.num_filter_entries = p.filter_num_keys;
  props_.filter_policy_name = p.filter_kind == "none" ? "" : "learnkv." + p.filter_kind;
  // What the learnkv table chose and why, for sst_dump and GetPropertiesOfAllTables.
  auto& u = props_.user_collected_properties;
  u["learnkv.table.bytes"] = std::to_string(table_.FileSize());
  u["learnkv.records_per_block"] = std::to_string(p.records_per_block);
  u["learnkv.index.type"] = IndexTypeName(p.index_type);
  u["learnkv.index.fallback_reason"] = p.fallback_reason;
  u["learnkv.rmi.leaves"] = std::to_string(p.rmi_leaf_count);
  u["learnkv.rmi.max_error"] = std::to_string(p.rmi_max_error);
  u["learnkv.rmi.mean_window"] = Number(p.rmi_mean_window);
  u["learnkv.filter.kind"] = p.filter_kind;
  u["learnkv.filter.bits_per_key"] = Number(p.filter_bits_per_key);
  u["learnkv.filter.reason"] = p.filter_reason;
}

rocksdb::Status LearnedTableBuilder::WriteTail() {
  const uint64_t table_size = table_.FileSize();
  std::string tail;  // everything after the learnkv table, appended at once
  EncodeRangeTombstones(range_tombstones_, &tail);
  const uint64_t range_del_size = tail.size();

  rocksdb::PropertyBlockBuilder properties;
  properties.AddTableProperty(props_);
  properties.Add(props_.user_collected_properties);
  // NotifyCollectTableCollectorsOnFinish, with SstFileWriter's version changed.
  for (const auto& collector : collectors_) {
    rocksdb::UserCollectedProperties user;
    if (!collector->Finish(&user).ok()) {
      rocksdb::LogPropertiesCollectionError(ioptions_.logger, "Finish", collector->Name());
      continue;
    }
    AsExternalFileVersion1(&user);
    properties.Add(user);
  }
  const rocksdb::Slice properties_block = properties.Finish();
  const rocksdb::BlockHandle properties_handle(table_size + tail.size(), properties_block.size());
  tail.append(properties_block.data(), properties_block.size());

  rocksdb::MetaIndexBuilder metaindex;
  metaindex.Add(rocksdb::kPropertiesBlockName, properties_handle);
  const rocksdb::Slice metaindex_block = metaindex.Finish();
  const rocksdb::BlockHandle metaindex_handle(table_size + tail.size(), metaindex_block.size());
  tail.append(metaindex_block.data(), metaindex_block.size());

  TailTrailer trailer;
  trailer.table_size = table_size;
  trailer.range_del_size = range_del_size;
  trailer.checksum = trailer.Checksum(tail);
  trailer.EncodeTo(&tail);

  rocksdb::FooterBuilder footer;
  footer.Build(kLearnedTableMagicNumber, kLearnedTableFooterVersion, table_size + tail.size(),
               rocksdb::kNoChecksum, metaindex_handle);
  tail.append(footer.GetSlice().data(), footer.GetSlice().size());

  const Status s = file_.Append(tail);
  if (!s.ok()) return file_.io_status();
  file_size_ = table_size + tail.size();
  return rocksdb::Status::OK();
}

rocksdb::TableProperties LearnedTableBuilder::GetTableProperties() const {
  rocksdb::TableProperties ret = props_;
  for (const auto& collector : collectors_) {
    for (const auto& prop : collector->GetReadableProperties()) {
      ret.readable_properties.insert(prop);
    }
    collector->Finish(&ret.user_collected_properties).PermitUncheckedError();
  }
  AsExternalFileVersion1(&ret.user_collected_properties);
  return ret;
}

std::string LearnedTableBuilder::GetFileChecksum() const {
  return writer_ != nullptr ? writer_->GetFileChecksum() : rocksdb::kUnknownFileChecksum;
}

const char* LearnedTableBuilder::GetFileChecksumFuncName() const {
  return writer_ != nullptr ? writer_->GetFileChecksumFuncName()
                            : rocksdb::kUnknownFileChecksumFuncName;
}

void LearnedTableBuilder::SetSeqnoTimeTableProperties(
    const std::string& encoded_seqno_to_time_mapping, uint64_t oldest_ancestor_time) {
  props_.seqno_to_time_mapping = encoded_seqno_to_time_mapping;
  props_.creation_time = oldest_ancestor_time;
}

}  // namespace learnkv
