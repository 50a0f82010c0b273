// LearnedTableBuilder: RocksDB's TableBuilder over learnkv's TableBuilder. Point entries (every
// value type but range deletions) go into the learnkv table unchanged — internal keys have the
// same layout in both; range tombstones, which RocksDB adds out of key order (after the point
// entries, at flush and compaction), are kept aside and written after the table with RocksDB's
// properties, metaindex and footer (learned_table_format.h). Table property collectors are
// notified of every entry, as BlockBasedTable does.
//
// Thread safety: as rocksdb::TableBuilder — one thread calls the non-const methods.
#ifndef LEARNKV_SSTABLE_ROCKSDB_LEARNED_TABLE_BUILDER_H_
#define LEARNKV_SSTABLE_ROCKSDB_LEARNED_TABLE_BUILDER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "db/table_properties_collector.h"
#include "sstable/rocksdb/learned_table.h"
#include "sstable/rocksdb/learned_table_format.h"
#include "sstable/table_builder.h"
#include "table/table_builder.h"

namespace learnkv {

class LearnedTableBuilder final : public rocksdb::TableBuilder {
 public:
  // file is borrowed: RocksDB keeps it open until Finish() or Abandon() returns.
  LearnedTableBuilder(const rocksdb::TableBuilderOptions& tbo, const LearnedTableOptions& options,
                      rocksdb::WritableFileWriter* file);
  ~LearnedTableBuilder() override;

  void Add(const rocksdb::Slice& key, const rocksdb::Slice& value) override;
  rocksdb::Status status() const override { return status_; }
  rocksdb::IOStatus io_status() const override { return file_.io_status(); }
  rocksdb::Status Finish() override;
  void Abandon() override;
  // Entries added, range tombstones included (as BlockBasedTable counts them).
  uint64_t NumEntries() const override { return props_.num_entries; }
  // Not the default, which would run the property collectors' Finish() to find out.
  bool IsEmpty() const override { return props_.num_entries == 0; }
  uint64_t FileSize() const override { return finished_ ? file_size_ : table_.FileSize(); }
  rocksdb::TableProperties GetTableProperties() const override;
  std::string GetFileChecksum() const override;
  const char* GetFileChecksumFuncName() const override;
  void SetSeqnoTimeTableProperties(const std::string& encoded_seqno_to_time_mapping,
                                   uint64_t oldest_ancestor_time) override;

 private:
  // Fills the properties that learnkv's table knows once it is finished.
  void CopyTableProperties();
  // Writes everything after the learnkv table; sets file_size_.
  rocksdb::Status WriteTail();
  void SetError(const rocksdb::Status& s) {
    if (status_.ok()) status_ = s;
  }

  const rocksdb::ImmutableOptions& ioptions_;
  rocksdb::WritableFileWriter* const writer_;
  RocksWritableFile file_;
  learnkv::TableBuilder table_;
  rocksdb::Status status_;
  bool finished_ = false;  // Finish() or Abandon() was called
  uint64_t file_size_ = 0;

  std::vector<std::pair<std::string, std::string>> range_tombstones_;
  rocksdb::TableProperties props_;
  std::vector<std::unique_ptr<rocksdb::IntTblPropCollector>> collectors_;
};

}  // namespace learnkv

#endif  // LEARNKV_SSTABLE_ROCKSDB_LEARNED_TABLE_BUILDER_H_
