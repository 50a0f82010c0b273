// DB::Open (creating or recovering a DB: MANIFEST, then the WALs), option sanitizing and
// DestroyDB.

#include <algorithm>
#include <cinttypes>

#include "engine/db_impl.h"
#include "engine/filename.h"
#include "engine/log_reader.h"
#include "engine/write_batch_internal.h"
#include "sstable/block_cache.h"

namespace learnkv {

namespace {

// Block cache of a DB whose options name none.
constexpr size_t kDefaultBlockCacheBytes = 8 << 20;


template <typename T>
T Clamp(T v, T lo, T hi) {
  return std::min(std::max(v, lo), hi);
}

}  // namespace

Options SanitizeOptions(const Options& src) {
  Options r = src;
  if (r.env == nullptr) r.env = Env::Default();
  // Below ~8 KiB an empty memtable (one arena block) would already count as full.
  r.write_buffer_size = std::max<size_t>(r.write_buffer_size, 8 << 10);
  r.max_write_buffer_number = std::max(r.max_write_buffer_number, 2);
  r.max_background_jobs = Clamp(r.max_background_jobs, 1, 64);
  r.level0_file_num_compaction_trigger = std::max(r.level0_file_num_compaction_trigger, 1);
  r.level0_slowdown_writes_trigger =
      std::max(r.level0_slowdown_writes_trigger, r.level0_file_num_compaction_trigger);
  r.level0_stop_writes_trigger =
      std::max(r.level0_stop_writes_trigger, r.level0_slowdown_writes_trigger);
  r.hard_pending_compaction_bytes_limit =
      std::max(r.hard_pending_compaction_bytes_limit, r.soft_pending_compaction_bytes_limit);
  r.max_bytes_for_level_base = std::max<uint64_t>(r.max_bytes_for_level_base, 1);
  r.max_bytes_for_level_multiplier = std::max(r.max_bytes_for_level_multiplier, 1.0);
  r.target_file_size_base = std::max<uint64_t>(r.target_file_size_base, 1);
  r.max_open_files = std::max(r.max_open_files, 20);
  if (r.table_options.block_cache == nullptr) {
    r.table_options.block_cache = NewBlockCache(kDefaultBlockCacheBytes);
  }
  if (r.paranoid_checks) r.table_options.verify_checksums = true;
  return r;
}

Status DB::Open(const Options& options, const std::string& dbname, std::unique_ptr<DB>* dbptr) {
  dbptr->reset();
  if (options.num_levels < 2 || options.num_levels > kNumLevels) {
    return Status::InvalidArgument("num_levels",
                                   "must be between 2 and " + std::to_string(kNumLevels));
  }
  auto impl = std::make_unique<DBImpl>(SanitizeOptions(options), dbname);
  Status s = impl->OpenImpl();
  if (s.ok()) *dbptr = std::move(impl);
  return s;
}

Status DBImpl::OpenImpl() {
  bool is_dir = false;
  Status s = env_->IsDirectory(dbname_, &is_dir);
  if (s.ok() && !is_dir) return Status::InvalidArgument(dbname_, "is not a directory");
  if (!s.ok()) {
    if (!options_.create_if_missing) {
      return Status::InvalidArgument(dbname_, "does not exist (create_if_missing is false)");
    }
    s = env_->CreateDir(dbname_);
    if (!s.ok()) return s;
  }
  s = env_->LockFile(LockFileName(dbname_), &db_lock_);
  if (!s.ok()) {
    return Status::IOError(
        LockFileName(dbname_),
        "the DB is in use by another process or DB object (" + s.message() + ")");
  }
  // Only the lock holder may rotate the LOG.
  if (options_.info_log) {
    std::unique_ptr<InfoLog> log;
    if (InfoLog::Open(env_, dbname_, &log).ok()) info_log_ = std::move(log);
  }
  info_log_->Log("Opening %s", dbname_.c_str());
  if (!options_.accelerator.empty()) {
    // Before recovery: a recovered WAL's flush already reports its model fit.
    s = DBAccelerator::Open(options_, dbname_, info_log_.get(), &accel_);
    if (!s.ok()) return s;
  }
  versions_ = std::make_unique<VersionSet>(dbname_, &options_, table_cache_.get(), info_log_.get(),
                                           &mutex_);

  MutexLock l(&mutex_);
  if (!env_->FileExists(CurrentFileName(dbname_))) {
    if (!options_.create_if_missing) {
      return Status::InvalidArgument(dbname_, "does not exist (create_if_missing is false)");
    }
    s = VersionSet::CreateNew(env_, dbname_);
    if (!s.ok()) return s;
    info_log_->Log("Created a new DB");
  } else if (options_.error_if_exists) {
    return Status::InvalidArgument(dbname_, "exists (error_if_exists is true)");
  }
  s = versions_->Recover();
  if (!s.ok()) return s;
  {
    const std::shared_ptr<Version> v = versions_->current();
    for (int level = options_.num_levels; level < kNumLevels; ++level) {
      if (v->NumFiles(level) > 0) {
        return Status::InvalidArgument(dbname_, "has tables at level " + std::to_string(level) +
                                                    ", deeper than num_levels allows");
      }
    }
  }
  s = CheckTablesExist();
  if (!s.ok()) return s;

  VersionEdit edit;
  s = RecoverLogFiles(&edit);
  // Writes go to a fresh WAL: a recovered one may end in a torn record that must never be
  // appended to.
  uint64_t new_log_number = 0;
  std::unique_ptr<WritableFile> file;
  if (s.ok()) {
    new_log_number = versions_->NewFileNumber();
    s = env_->NewWritableFile(WalFileName(dbname_, new_log_number), &file);
  }
  if (s.ok()) s = env_->SyncDir(dbname_);
  if (s.ok()) {
    edit.SetLogNumber(new_log_number);
    s = versions_->LogAndApply(&edit, &mutex_);
  }
  for (const auto& [level, f] : edit.new_files()) pending_outputs_.erase(f.number);
  if (!s.ok()) return s;

  logfile_ = std::move(file);
  log_ = std::make_unique<log::Writer>(logfile_.get());
  logfile_number_ = new_log_number;
  mem_log_number_ = new_log_number;
  mem_ = new MemTable(options_.write_buffer_size);
  mem_->Ref();
  DeleteObsoleteFiles();
  InstallSuperVersion();
  StartBackgroundThreads();
  info_log_->Log("Opened %s: last sequence %" PRIu64 ", WAL #%" PRIu64 ", %s", dbname_.c_str(),
                 versions_->LastSequence(), new_log_number,
                 versions_->current()->LevelSummary().c_str());
  return Status::OK();
}

Status DBImpl::CheckTablesExist() {
  mutex_.AssertHeld();
  std::set<uint64_t> expected;
  versions_->AddLiveFiles(&expected);
  std::vector<std::string> children;
  Status s = env_->GetChildren(dbname_, &children);
  if (!s.ok()) return s;
  for (const std::string& name : children) {
    uint64_t number;
    FileType type;
    if (ParseFileName(name, &number, &type) && type == FileType::kTableFile) {
      expected.erase(number);
    }
  }
  if (expected.empty()) return Status::OK();
  return Status::Corruption(TableFileName(dbname_, *expected.begin()),
                            "is missing (" + std::to_string(expected.size()) +
                                " table file(s) named by the MANIFEST are missing)");
}

Status DBImpl::RecoverLogFiles(VersionEdit* edit) {
  mutex_.AssertHeld();
  std::vector<std::string> children;
  Status s = env_->GetChildren(dbname_, &children);
  if (!s.ok()) return s;
  std::vector<uint64_t> logs;
  for (const std::string& name : children) {
    uint64_t number;
    FileType type;
    if (ParseFileName(name, &number, &type) && type == FileType::kWalFile &&
        number >= versions_->LogNumber()) {
      logs.push_back(number);
    }
  }
  std::sort(logs.begin(), logs.end());
  MemTable* mem = nullptr;
  SequenceNumber max_sequence = versions_->LastSequence();
  for (uint64_t number : logs) {
    versions_->MarkFileNumberUsed(number);
    s = RecoverLogFile(number, edit, &mem, &max_sequence);
    if (!s.ok()) break;
  }
  if (s.ok() && mem != nullptr) {
    // Into a table now, so that the recovered WALs can go.
    FileMetaData meta;
    s = WriteLevel0Table(mem, edit, &meta);
  }
  if (mem != nullptr) mem->Unref();
  if (s.ok()) versions_->SetLastSequence(max_sequence);
  return s;
}

Status DBImpl::RecoverLogFile(uint64_t number, VersionEdit* edit, MemTable** mem,
                              SequenceNumber* max_sequence) {
  mutex_.AssertHeld();
  const std::string fname = WalFileName(dbname_, number);
  std::unique_ptr<SequentialFile> file;
  Status s = env_->NewSequentialFile(fname, &file);
  if (!s.ok()) return s;
  InfoLogReporter reporter(info_log_.get(), " (an interrupted write, never acknowledged)");
  log::Reader reader(file.get(), fname, &reporter, options_.wal_recovery_mode);
  const bool skip_damage = options_.wal_recovery_mode == WalRecoveryMode::kSkipAnyCorruptedRecords;
  Slice record;
  std::string scratch;
  WriteBatch batch;
  uint64_t records = 0, skipped = 0;
  while (reader.ReadRecord(&record, &scratch)) {
    // A record that passed its checksum but does not hold a batch: damage the checksum
    // could not see, handled as the mode says.
    Status bad;
    if (record.size() < WriteBatchInternal::kHeaderSize) {
      bad = Status::Corruption("record too small for a write batch");
    } else {
      WriteBatchInternal::SetContents(&batch, record);
      if (*mem == nullptr) {
        *mem = new MemTable(options_.write_buffer_size);
        (*mem)->Ref();
      }
      bad = WriteBatchInternal::InsertInto(batch, *mem);
    }
    if (!bad.ok()) {
      const Status located = Status::Corruption(
          fname, bad.message() + " at offset " + std::to_string(reader.LastRecordOffset()));
      info_log_->Log("%s", located.ToString().c_str());
      if (!skip_damage) return located;
      ++skipped;
      continue;
    }
    ++records;
    const uint32_t count = WriteBatchInternal::Count(batch);
    if (count > 0) {
      *max_sequence = std::max(*max_sequence, WriteBatchInternal::Sequence(batch) + count - 1);
    }
    if ((*mem)->ApproximateMemoryUsage() > options_.write_buffer_size) {
      FileMetaData meta;
      s = WriteLevel0Table(*mem, edit, &meta);
      (*mem)->Unref();
      *mem = nullptr;
      if (!s.ok()) return s;
    }
  }
  if (!reader.status().ok()) return reader.status();
  info_log_->Log(
      "Recovered WAL #%" PRIu64 ": %" PRIu64 " batches%s%s", number, records,
      reader.found_torn_tail() ? ", torn tail dropped" : "",
      skipped > 0 ? (", " + std::to_string(skipped) + " damaged batches skipped").c_str() : "");
  return Status::OK();
}

Status DestroyDB(const std::string& dbname, const Options& options) {
  Env* env = options.env != nullptr ? options.env : Env::Default();
  std::vector<std::string> children;
  if (!env->GetChildren(dbname, &children).ok()) return Status::OK();  // nothing there
  const std::string lockname = LockFileName(dbname);
  std::unique_ptr<FileLock> lock;
  Status result = env->LockFile(lockname, &lock);
  if (!result.ok()) {
    return Status::IOError(lockname, "the DB is in use (" + result.message() + ")");
  }
  for (const std::string& name : children) {
    uint64_t number;
    FileType type;
    if (!ParseFileName(name, &number, &type) || type == FileType::kLockFile) continue;
    Status del = env->RemoveFile(dbname + "/" + name);
    if (result.ok() && !del.ok()) result = del;
  }
  lock.reset();
  env->RemoveFile(lockname);
  env->RemoveDir(dbname);  // fails, harmlessly, if other files remain
  return result;
}

}  // namespace learnkv
