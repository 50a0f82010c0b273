// DBImpl's background work: the thread pool, memtable flushes, leveled compactions (automatic
// and manual) and deleting obsolete files.

#include <algorithm>
#include <cinttypes>

#include "engine/db_impl.h"
#include "engine/filename.h"
#include "engine/level_iterator.h"
#include "engine/merging_iterator.h"
#include "engine/table_file_writer.h"
#include "learnkv/compaction_filter.h"

namespace learnkv {

namespace {

const char* IndexKindName(uint8_t kind) {
  return kind == static_cast<uint8_t>(IndexType::kLearned) ? "rmi" : "block";
}

// "#12 (rmi, 4 leaves, max error 7) #13 (block: too few keys)".
std::string DescribeOutputs(const std::vector<FileMetaData>& outputs) {
  std::string r;
  for (const FileMetaData& f : outputs) {
    if (!r.empty()) r += " ";
    r += "#" + std::to_string(f.number) + " (" + std::to_string(f.file_size) + " bytes, " +
         IndexKindName(f.index_kind);
    if (f.index_kind == static_cast<uint8_t>(IndexType::kLearned)) {
      r += ", " + std::to_string(f.model_leaves) + " leaves, max error " +
           std::to_string(f.model_max_error);
    } else if (!f.fallback_reason.empty()) {
      r += ": " + f.fallback_reason;
    }
    r += ")";
  }
  return r.empty() ? "none" : r;
}

}  // namespace

void DBImpl::StartBackgroundThreads() {
  mutex_.AssertHeld();
  for (int i = 0; i < options_.max_background_jobs; ++i) {
    bg_threads_.emplace_back([this] { BackgroundThreadMain(); });
  }
}

void DBImpl::BackgroundThreadMain() {
  MutexLock l(&mutex_);
  while (!shutting_down_.load(std::memory_order_acquire)) {
    if (!RunOneBackgroundJob()) bg_work_cv_.Wait();
  }
}

bool DBImpl::NeedsCompaction() const {
  mutex_.AssertHeld();
  if (options_.disable_auto_compactions) return false;
  const std::shared_ptr<Version> v = versions_->current();
  for (int level = 0; level + 1 < options_.num_levels; ++level) {
    if (v->CompactionScore(level) >= 1) return true;
  }
  return false;
}

bool DBImpl::RunOneBackgroundJob() {
  mutex_.AssertHeld();
  if (!bg_error_.ok()) return false;  // nothing more is written until a reopen
  // Flushes first: writers may be waiting for the memtable.
  if (!imm_.empty() && !flush_running_) {
    FlushOldestMemTable();
    return true;
  }
  // With several threads, one stays free for flushes.
  const size_t max_compactions = static_cast<size_t>(std::max(1, options_.max_background_jobs - 1));
  if (running_compactions_.size() >= max_compactions) return false;

  std::unique_ptr<Compaction> c;
  ManualCompaction* const m = manual_compaction_;
  if (m != nullptr) {
    // A manual compaction waits for a quiet tree (it does not check for conflicts) and holds
    // automatic ones back meanwhile.
    if (m->in_progress || !running_compactions_.empty()) return false;
    const Slice begin(m->begin), end(m->end);
    c = versions_->CompactRange(m->level, m->has_begin ? &begin : nullptr,
                                m->has_end ? &end : nullptr);
    if (c == nullptr) {
      m->done = true;
      manual_compaction_ = nullptr;
      bg_cv_.SignalAll();
      return true;
    }
    m->in_progress = true;
  } else if (!options_.disable_auto_compactions) {
    c = versions_->PickCompaction(running_compactions_);
  }
  if (c == nullptr) return false;

  running_compactions_.push_back(c.get());
  const Status s = RunCompaction(c.get());
  running_compactions_.erase(
      std::find(running_compactions_.begin(), running_compactions_.end(), c.get()));
  if (m != nullptr) {
    m->in_progress = false;
    if (!s.ok() || m->level == 0) {
      // Level 0 is compacted whole in one round.
      m->status = s;
      m->done = true;
      manual_compaction_ = nullptr;
    } else {
      // Continue after the last input; the next round finds the rest of the range, if any.
      m->has_begin = true;
      m->begin = c->inputs(0).back()->largest;
    }
  }
  // The compaction pins its input version, and so its input files: release it first, or the
  // inputs it just replaced would stay on disk until the next flush or compaction.
  c.reset();
  if (s.ok()) DeleteObsoleteFiles();
  bg_cv_.SignalAll();
  bg_work_cv_.SignalAll();
  return true;
}

void DBImpl::FlushOldestMemTable() {
  mutex_.AssertHeld();
  flush_running_ = true;
  // The memtable stays in imm_ (visible to reads) until its table is installed.
  const ImmMemTable imm = imm_.front();
  const uint64_t start = env_->NowMicros();
  VersionEdit edit;
  FileMetaData meta;
  Status s = WriteLevel0Table(imm.mem, &edit, &meta);
  if (s.ok()) {
    // The WALs before the next memtable's are no longer needed. Only this thread flushes, so
    // imm_.front() is still ours.
    edit.SetLogNumber(imm_.size() > 1 ? imm_[1].log_number : mem_log_number_);
    s = versions_->LogAndApply(&edit, &mutex_);
  }
  pending_outputs_.erase(meta.number);
  stats_.flush.micros += env_->NowMicros() - start;
  if (s.ok()) {
    imm_.pop_front();
    has_imm_.store(!imm_.empty(), std::memory_order_release);
    imm.mem->Unref();
    ++mems_flushed_;
    InstallSuperVersion();
    DeleteObsoleteFiles();
  } else {
    RecordBackgroundError(s);
  }
  flush_running_ = false;
  bg_cv_.SignalAll();
  bg_work_cv_.SignalAll();
}

Status DBImpl::WriteLevel0Table(MemTable* mem, VersionEdit* edit, FileMetaData* meta) {
  mutex_.AssertHeld();
  if (mem->num_entries() == 0) return Status::OK();
  const uint64_t start = env_->NowMicros();
  const uint64_t number = versions_->NewFileNumber();
  pending_outputs_.insert(number);
  meta->number = number;
  const std::shared_ptr<const Version> version = versions_->current();
  const std::vector<LevelFilterLoad> loads =
      JobFilterLoads(-1, 0, mem->num_entries(), /*output_level=*/0);
  Status s;
  {
    mutex_.Unlock();
    const OutputFilterPlan filters(options_, miss_sampler_.get(), version, table_cache_.get(), 0,
                                   loads);
    std::unique_ptr<TableFileWriter> out;
    s = TableFileWriter::Open(env_, dbname_, number, filters.table_options(), &out,
                              filters.NewNegatives());
    if (s.ok()) {
      std::unique_ptr<Iterator> iter = mem->NewIterator();
      for (iter->SeekToFirst(); iter->Valid(); iter->Next()) out->Add(iter->key(), iter->value());
      s = out->Finish(meta);
    }
    out.reset();  // removes the file unless it was finished
    mutex_.Lock();
  }
  const uint64_t micros = env_->NowMicros() - start;
  if (s.ok()) {
    ++stats_.flush.jobs;
    stats_.flush.AddTable(*meta);
    edit->AddFile(0, *meta);
    if (accel_ != nullptr) accel_->AdviseTraining(*meta);
    info_log_->Log("Flush: memtable of %" PRIu64 " entries -> L0 %s, %" PRIu64 " entries, %" PRIu64
                   " micros (build %" PRIu64 ", model training %" PRIu64 ")",
                   mem->num_entries(), DescribeOutputs({*meta}).c_str(), meta->num_entries, micros,
                   meta->build_micros, meta->training_micros);
  } else {
    info_log_->Log("Flush to table #%" PRIu64 " failed: %s", number, s.ToString().c_str());
  }
  return s;
}

Status DBImpl::RunCompaction(Compaction* c) {
  mutex_.AssertHeld();
  const uint64_t start = env_->NowMicros();
  LevelStats& stats = stats_.compaction[c->output_level()];
  Status s;
  if (!c->is_manual && c->IsTrivialMove()) {
    // Nothing to merge with: the file changes level without being rewritten.
    const FileMetaData& f = *c->inputs(0)[0];
    c->edit()->RemoveFile(c->level(), f.number);
    c->edit()->AddFile(c->output_level(), f);
    s = versions_->LogAndApply(c->edit(), &mutex_);
    if (s.ok()) {
      ++stats_.trivial_moves;
      InstallSuperVersion();
    } else {
      RecordBackgroundError(s);
    }
    info_log_->Log("Moved #%" PRIu64 " (%" PRIu64 " bytes) to L%d: %s; %s", f.number, f.file_size,
                   c->output_level(), s.ToString().c_str(),
                   versions_->current()->LevelSummary().c_str());
    return s;
  }

  info_log_->Log("Compacting %s -> L%d%s", c->InputSummary().c_str(), c->output_level(),
                 c->is_manual ? " (manual)" : "");
  std::vector<FileMetaData> outputs;
  s = DoCompactionWork(c, &outputs);
  if (s.ok()) {
    c->AddInputDeletions(c->edit());
    for (const FileMetaData& f : outputs) c->edit()->AddFile(c->output_level(), f);
    s = versions_->LogAndApply(c->edit(), &mutex_);
  }
  for (const FileMetaData& f : outputs) pending_outputs_.erase(f.number);

  const uint64_t micros = env_->NowMicros() - start;
  const uint64_t bytes_read = c->TotalInputBytes();
  uint64_t bytes_written = 0, training = 0;
  for (const FileMetaData& f : outputs) {
    bytes_written += f.file_size;
    training += f.training_micros;
  }
  ++stats.jobs;
  stats.micros += micros;
  stats.bytes_read += bytes_read;
  if (s.ok()) {
    for (const FileMetaData& f : outputs) stats.AddTable(f);
    if (accel_ != nullptr) {
      for (const FileMetaData& f : outputs) accel_->AdviseTraining(f);
    }
    InstallSuperVersion();
  } else if (!shutting_down_.load()) {
    RecordBackgroundError(s);
  }
  info_log_->Log("Compacted %s -> L%d %s: read %" PRIu64 " bytes, wrote %" PRIu64 " bytes, %" PRIu64
                 " micros (model training %" PRIu64 "): %s; %s",
                 c->InputSummary().c_str(), c->output_level(), DescribeOutputs(outputs).c_str(),
                 bytes_read, bytes_written, micros, training, s.ToString().c_str(),
                 versions_->current()->LevelSummary().c_str());
  return s;
}

std::unique_ptr<Iterator> DBImpl::MakeCompactionInput(Compaction* c) {
  std::vector<std::unique_ptr<Iterator>> children;
  const TableReadOptions read = table_cache_->ForCompaction();
  if (c->level() == 0) {
    for (const auto& f : c->inputs(0)) {
      children.push_back(table_cache_->NewIterator(*f, read));
    }
  } else {
    children.push_back(NewLevelIterator(table_cache_.get(), &c->inputs(0), read));
  }
  if (!c->inputs(1).empty()) {
    children.push_back(NewLevelIterator(table_cache_.get(), &c->inputs(1), read));
  }
  return NewMergingIterator(std::move(children));
}

std::vector<LevelFilterLoad> DBImpl::JobFilterLoads(int from_level, int from_tables, uint64_t keys,
                                                    int output_level) {
  mutex_.AssertHeld();
  std::vector<LevelFilterLoad> loads = LevelLoads(*versions_->current(), options_.num_levels);
  if (from_level >= 0) {
    LevelFilterLoad& from = loads[static_cast<size_t>(from_level)];
    from.num_keys -= std::min(from.num_keys, keys);
    if (from_level == 0) from.probes = std::max(0.0, from.probes - from_tables);
  }
  LevelFilterLoad& to = loads[static_cast<size_t>(output_level)];
  to.num_keys += keys;
  // A flush adds an L0 table; a compaction's outputs make one more probed level at most.
  to.probes = output_level == 0 ? to.probes + 1 : 1;
  return loads;
}

Status DBImpl::DoCompactionWork(Compaction* c, std::vector<FileMetaData>* outputs) {
  mutex_.AssertHeld();
  // Versions older than this are visible to no snapshot and no future read.
  const SequenceNumber smallest_snapshot = SmallestSnapshot();
  // The compaction filter may only see versions no snapshot sees: newer than the newest one.
  const bool has_snapshots = !snapshots_.empty();
  const SequenceNumber newest_snapshot = has_snapshots ? *snapshots_.rbegin() : 0;
  const CompactionFilter* const compaction_filter = options_.compaction_filter.get();
  const bool single_thread = options_.max_background_jobs == 1;
  uint64_t input0_entries = 0;
  for (const auto& f : c->inputs(0)) input0_entries += f->num_entries;
  const std::vector<LevelFilterLoad> loads = JobFilterLoads(
      c->level(), static_cast<int>(c->inputs(0).size()), input0_entries, c->output_level());
  mutex_.Unlock();
  // Deeper keys for the outputs' negatives are read in the input version, which keeps them.
  const OutputFilterPlan filters(options_, miss_sampler_.get(), c->shared_input_version(),
                                 table_cache_.get(), c->output_level(), loads);

  std::unique_ptr<Iterator> input = MakeCompactionInput(c);
  std::unique_ptr<TableFileWriter> out;
  Status s;
  std::vector<uint64_t> failed;  // numbers of outputs that were not finished
  auto finish_output = [&]() {
    FileMetaData meta;
    Status st = out->Finish(&meta);
    if (st.ok()) {
      outputs->push_back(std::move(meta));
    } else {
      failed.push_back(out->number());
    }
    out.reset();
    return st;
  };

  std::string current_user_key;
  bool has_current_user_key = false;
  SequenceNumber last_sequence_for_key = kMaxSequenceNumber;
  std::string tombstone;  // a value the compaction filter removed, as a deletion
  uint64_t filtered = 0;
  for (input->SeekToFirst(); input->Valid(); input->Next()) {
    if (shutting_down_.load(std::memory_order_acquire)) {
      s = Status::Aborted("compaction stopped: the DB is closing");
      break;
    }
    if (single_thread && has_imm_.load(std::memory_order_acquire)) {
      // The only background thread is busy here: flush in between, or writers would wait
      // for the whole compaction.
      mutex_.Lock();
      if (!imm_.empty() && !flush_running_ && bg_error_.ok()) FlushOldestMemTable();
      mutex_.Unlock();
    }
    const Slice key = input->key();
    ParsedInternalKey ikey;
    if (!ParseInternalKey(key, &ikey)) {
      s = Status::Corruption("compaction input " + c->InputSummary(), "key without a trailer");
      break;
    }
    if (!has_current_user_key || ikey.user_key.compare(Slice(current_user_key)) != 0) {
      // A new user key: the only place where an output file may end, so that no user key
      // spans two files of a level.
      const bool grandparents_full = c->ShouldStopBefore(key);
      if (out != nullptr && (grandparents_full || out->FileSize() >= c->MaxOutputFileSize())) {
        s = finish_output();
        if (!s.ok()) break;
      }
      current_user_key.assign(ikey.user_key.data(), ikey.user_key.size());
      has_current_user_key = true;
      last_sequence_for_key = kMaxSequenceNumber;
    }

    Slice out_key = key, out_value = input->value();
    bool drop = false;
    if (last_sequence_for_key <= smallest_snapshot) {
      drop = true;  // a newer version of the key is visible to every reader
    } else {
      bool deletion = ikey.type == kTypeDeletion;
      if (compaction_filter != nullptr && last_sequence_for_key == kMaxSequenceNumber &&
          ikey.type == kTypeValue && (!has_snapshots || ikey.sequence > newest_snapshot) &&
          compaction_filter->Filter(c->output_level(), ikey.user_key, out_value) ==
              CompactionFilter::Decision::kRemove) {
        // As if the key had been deleted at this sequence: the tombstone keeps older versions
        // (deeper, or kept here for snapshots) hidden, and goes by the rule below.
        tombstone.clear();
        AppendInternalKey(&tombstone, ikey.user_key, ikey.sequence, kTypeDeletion);
        out_key = tombstone;
        out_value = Slice();
        deletion = true;
        ++filtered;
      }
      if (deletion && ikey.sequence <= smallest_snapshot && c->IsBaseLevelForKey(ikey.user_key)) {
        // Every reader sees this tombstone, and no deeper level holds a value it must hide;
        // older versions in this compaction are dropped by the rule above.
        drop = true;
      }
    }
    last_sequence_for_key = ikey.sequence;
    if (drop) continue;

    if (out == nullptr) {
      mutex_.Lock();
      const uint64_t number = versions_->NewFileNumber();
      pending_outputs_.insert(number);
      mutex_.Unlock();
      // Until installed, its number stays in pending_outputs_ (erased by RunCompaction).
      s = TableFileWriter::Open(env_, dbname_, number, filters.table_options(), &out,
                                filters.NewNegatives());
      if (!s.ok()) {
        failed.push_back(number);
        break;
      }
    }
    out->Add(out_key, out_value);
  }
  if (s.ok()) s = input->status();
  if (s.ok() && out != nullptr) s = finish_output();
  if (out != nullptr) failed.push_back(out->number());
  out.reset();  // removes an unfinished file
  input.reset();
  mutex_.Lock();
  for (uint64_t number : failed) pending_outputs_.erase(number);
  if (s.ok() && filtered > 0) {
    stats_.compaction_filter_removed += filtered;
    info_log_->Log("Compaction filter %s removed %" PRIu64 " values of %s",
                   compaction_filter->Name(), filtered, c->InputSummary().c_str());
  }
  return s;
}

Status DBImpl::RunManualCompaction(int level, const Slice* begin, const Slice* end) {
  ManualCompaction manual;
  manual.level = level;
  if (begin != nullptr) {
    manual.has_begin = true;
    AppendInternalKey(&manual.begin, *begin, kMaxSequenceNumber, kValueTypeForSeek);
  }
  if (end != nullptr) {
    manual.has_end = true;
    AppendInternalKey(&manual.end, *end, 0, kTypeDeletion);
  }
  MutexLock l(&mutex_);
  while (!manual.done && !shutting_down_.load() && bg_error_.ok()) {
    if (manual_compaction_ == nullptr) {
      manual_compaction_ = &manual;
      bg_work_cv_.SignalAll();
    }
    bg_cv_.Wait();
  }
  // A background thread may still be running a round that points at `manual`.
  while (manual.in_progress) bg_cv_.Wait();
  if (manual_compaction_ == &manual) manual_compaction_ = nullptr;
  if (!manual.status.ok()) return manual.status;
  if (!bg_error_.ok()) return bg_error_;
  return manual.done ? Status::OK() : Status::Aborted("DB is closing");
}

void DBImpl::DeleteObsoleteFiles() {
  mutex_.AssertHeld();
  // After a background error we cannot tell whether the last MANIFEST edit took effect, so
  // its files might be live.
  if (!bg_error_.ok()) return;
  std::set<uint64_t> live = pending_outputs_;
  versions_->AddLiveFiles(&live);
  std::vector<std::string> children;
  env_->GetChildren(dbname_, &children);
  std::vector<std::string> doomed;
  for (const std::string& name : children) {
    uint64_t number;
    FileType type;
    if (!ParseFileName(name, &number, &type)) continue;
    bool keep = true;
    switch (type) {
      case FileType::kWalFile:
        // (A WAL that SyncWAL still syncs is closed by it, then removed on a later pass.)
        keep = number >= versions_->LogNumber() || number == wal_syncing_;
        break;
      case FileType::kManifestFile:
        // Newer ones may be being written by LogAndApply.
        keep = number >= versions_->ManifestFileNumber();
        break;
      case FileType::kTableFile:
        keep = live.count(number) > 0;
        if (!keep) table_cache_->Evict(number);
        break;
      case FileType::kTempFile:
        // CURRENT being replaced by LogAndApply uses the new MANIFEST's number.
        keep = number >= versions_->ManifestFileNumber();
        break;
      case FileType::kLockFile:
      case FileType::kCurrentFile:
      case FileType::kInfoLogFile:
      case FileType::kAccelCalibrationFile:
        break;
    }
    if (!keep) doomed.push_back(name);
  }
  if (doomed.empty()) return;
  mutex_.Unlock();
  std::string names;
  for (const std::string& name : doomed) {
    env_->RemoveFile(dbname_ + "/" + name);
    names += " " + name;
  }
  mutex_.Lock();
  info_log_->Log("Deleted obsolete files:%s", names.c_str());
}

}  // namespace learnkv
