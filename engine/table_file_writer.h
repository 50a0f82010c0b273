// TableFileWriter: writes one table file of a flush or compaction and describes it in a
// FileMetaData — key range, sequence range, entry and deletion counts, and what the
// TableBuilder reports about the index it trained in the same pass (kind, size, model error,
// leaves, fallback reason, build and training time) and about the filter it chose.
//
// Thread safety: single-threaded; the flush or compaction that owns it.
#ifndef LEARNKV_ENGINE_TABLE_FILE_WRITER_H_
#define LEARNKV_ENGINE_TABLE_FILE_WRITER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "engine/level_filters.h"
#include "engine/version_edit.h"
#include "learnkv/env.h"
#include "learnkv/status.h"
#include "learnkv/table_options.h"
#include "sstable/table_builder.h"

namespace learnkv {

class TableFileWriter {
 public:
  // Creates table file `number` in dbname. negatives, when given, become the build's
  // options.filter.negatives and are shown every user key written (NoteKey).
  static Status Open(Env* env, const std::string& dbname, uint64_t number,
                     const TableOptions& options, std::unique_ptr<TableFileWriter>* result,
                     std::shared_ptr<TableNegativeSource> negatives = nullptr);
  TableFileWriter(const TableFileWriter&) = delete;
  TableFileWriter& operator=(const TableFileWriter&) = delete;
  // Abandons (and removes) the file unless Finish succeeded.
  ~TableFileWriter();

  // REQUIRES: internal keys in increasing order.
  void Add(const Slice& internal_key, const Slice& value);

  uint64_t FileSize() const { return builder_->FileSize(); }
  uint64_t NumEntries() const { return builder_->NumEntries(); }
  uint64_t number() const { return meta_.number; }

  // Finishes the table, syncs and closes the file, and describes it in *meta.
  Status Finish(FileMetaData* meta);

 private:
  TableFileWriter(Env* env, std::string fname, std::unique_ptr<WritableFile> file,
                  const TableOptions& options, uint64_t number,
                  std::shared_ptr<TableNegativeSource> negatives);

  Env* const env_;
  const std::string fname_;
  std::unique_ptr<WritableFile> file_;
  std::unique_ptr<TableBuilder> builder_;
  const std::shared_ptr<TableNegativeSource> negatives_;  // may be null
  FileMetaData meta_;
  bool builder_closed_ = false;  // Finish() or Abandon() was called on builder_
  bool finished_ = false;        // the file is complete and kept
};

}  // namespace learnkv

#endif  // LEARNKV_ENGINE_TABLE_FILE_WRITER_H_
