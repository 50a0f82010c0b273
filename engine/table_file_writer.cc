#include "engine/table_file_writer.h"

#include <algorithm>
#include <utility>

#include "engine/filename.h"
#include "learned/filter_policy.h"
#include "sstable/internal_key.h"

namespace learnkv {

namespace {

// The persistent FilterKind code of a kind name in the table properties; 0 for "none".
uint8_t FilterKindCode(const std::string& name) {
  for (FilterKind kind : {FilterKind::kBloom, FilterKind::kFuse, FilterKind::kLearned}) {
    if (name == FilterKindName(kind)) return static_cast<uint8_t>(kind);
  }
  return 0;
}

}  // namespace

Status TableFileWriter::Open(Env* env, const std::string& dbname, uint64_t number,
                             const TableOptions& options, std::unique_ptr<TableFileWriter>* result,
                             std::shared_ptr<TableNegativeSource> negatives) {
  std::string fname = TableFileName(dbname, number);
  std::unique_ptr<WritableFile> file;
  Status s = env->NewWritableFile(fname, &file);
  if (!s.ok()) return s;
  result->reset(new TableFileWriter(env, std::move(fname), std::move(file), options, number,
                                    std::move(negatives)));
  return Status::OK();
}

TableFileWriter::TableFileWriter(Env* env, std::string fname, std::unique_ptr<WritableFile> file,
                                 const TableOptions& options, uint64_t number,
                                 std::shared_ptr<TableNegativeSource> negatives)
    : env_(env),
      fname_(std::move(fname)),
      file_(std::move(file)),
      negatives_(std::move(negatives)) {
  if (negatives_ != nullptr) {
    TableOptions with_negatives = options;
    with_negatives.filter.negatives = negatives_;
    builder_ = std::make_unique<TableBuilder>(with_negatives, file_.get());
  } else {
    builder_ = std::make_unique<TableBuilder>(options, file_.get());
  }
  meta_.number = number;
  meta_.smallest_seqno = kMaxSequenceNumber;
}

TableFileWriter::~TableFileWriter() {
  if (finished_) return;
  if (!builder_closed_) builder_->Abandon();
  builder_.reset();
  file_->Close();
  file_.reset();
  env_->RemoveFile(fname_);
}

void TableFileWriter::Add(const Slice& internal_key, const Slice& value) {
  if (meta_.num_entries == 0) meta_.smallest.assign(internal_key.data(), internal_key.size());
  meta_.largest.assign(internal_key.data(), internal_key.size());
  ParsedInternalKey parsed;
  if (ParseInternalKey(internal_key, &parsed)) {
    meta_.smallest_seqno = std::min(meta_.smallest_seqno, parsed.sequence);
    meta_.largest_seqno = std::max(meta_.largest_seqno, parsed.sequence);
    if (parsed.type == kTypeDeletion) ++meta_.num_deletions;
  }
  ++meta_.num_entries;
  if (negatives_ != nullptr) negatives_->NoteKey(ExtractUserKey(internal_key));
  builder_->Add(internal_key, value);
}

Status TableFileWriter::Finish(FileMetaData* meta) {
  Status s = builder_->Finish();
  builder_closed_ = true;
  if (s.ok()) s = file_->Sync();
  if (s.ok()) s = file_->Close();
  if (!s.ok()) return s;  // the destructor removes the file
  finished_ = true;
  const TableProperties& p = builder_->properties();
  meta_.file_size = builder_->FileSize();
  if (meta_.num_entries == 0) meta_.smallest_seqno = 0;
  meta_.index_kind = static_cast<uint8_t>(p.index_type);
  meta_.index_bytes = p.index_bytes;
  const bool learned = p.index_type == IndexType::kLearned;
  meta_.model_max_error = learned ? p.rmi_max_error : 0;
  meta_.model_mean_error = learned ? p.rmi_mean_error : 0;
  meta_.model_leaves = learned ? p.rmi_leaf_count : 0;
  meta_.fallback_reason = p.fallback_reason;
  meta_.build_micros = p.build_micros;
  meta_.training_micros = p.training_micros;
  meta_.filter_kind = FilterKindCode(p.filter_kind);
  meta_.filter_bytes = p.filter_bytes;
  meta_.filter_num_keys = p.filter_num_keys;
  meta_.filter_target_fpr = p.filter_target_fpr;
  *meta = meta_;
  return Status::OK();
}

}  // namespace learnkv
