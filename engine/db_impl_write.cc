// The write path: writer queue with group commit, WAL append and sync, memtable insert,
// memtable switching, write stalls (backpressure), and SyncWAL.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <thread>

#include "engine/db_impl.h"
#include "engine/filename.h"
#include "engine/write_batch_internal.h"

namespace learnkv {

struct DBImpl::Writer {
  // Where the writer stands. Changed under mutex_ by the writer ahead of it, and read by the
  // writer itself while it spins without the mutex.
  enum State : uint8_t { kQueued, kLeading, kDone };

  explicit Writer(Mutex* mu) : cv(mu) {}
  WriteBatch* batch = nullptr;  // null: a flush request or a SyncWAL
  bool sync = false;
  bool disable_wal = false;
  Status status;  // set before state becomes kDone
  std::atomic<State> state{kQueued};
  CondVar cv;
};

namespace {

// How long a queued writer polls its state before it sleeps on its condition variable. A
// group commit takes a few microseconds, far less than a sleep and a wake-up (a futex wait
// and a context switch: tens of microseconds on a VM), so with several writer threads
// sleeping made the queue's hand-offs, not the work, the bottleneck: 4 threads wrote half as
// fast as one. Spinning (with the CPU's pause hint) comes first and longest: yielding instead
// switched between the waiting writers for nothing (fillrandom, 4 threads on 2 cores: 1.3M
// context switches and 250K writes/s when yielding after 128 pauses, 10-40K and 340K when
// spinning for about 20 µs first). Past the spin, yielding gives the leader the core if we
// share one; past that, the leader is stalled (a memtable switch, a full L0) and sleeping
// wastes nothing. As RocksDB's WriteThread::AwaitState.
constexpr auto kMaxSpin = std::chrono::microseconds(20);
constexpr auto kMaxYield = std::chrono::microseconds(100);

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// Returns state once it differs from queued, or queued when the bound passes.
template <typename State>
State PollState(const std::atomic<State>& state, State queued) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  for (int i = 1;; ++i) {
    const State s = state.load(std::memory_order_acquire);
    if (s != queued) return s;
    CpuRelax();
    if (i % 64 == 0 && Clock::now() - start > kMaxSpin) break;  // a clock read costs ~20 ns
  }
  const Clock::time_point deadline = Clock::now() + kMaxYield;
  do {
    std::this_thread::yield();
    const State s = state.load(std::memory_order_acquire);
    if (s != queued) return s;
  } while (Clock::now() < deadline);
  return queued;
}

}  // namespace

Status DBImpl::Put(const WriteOptions& options, const Slice& key, const Slice& value) {
  WriteBatch batch;
  Status s = batch.Put(key, value);
  if (!s.ok()) return s;
  return Write(options, &batch);
}

Status DBImpl::Delete(const WriteOptions& options, const Slice& key) {
  WriteBatch batch;
  Status s = batch.Delete(key);
  if (!s.ok()) return s;
  return Write(options, &batch);
}

Status DBImpl::Write(const WriteOptions& options, WriteBatch* updates) {
  if (updates == nullptr) return Status::InvalidArgument("Write", "null batch");
  return WriteImpl(options, updates, /*force_flush=*/false);
}

Status DBImpl::WriteImpl(const WriteOptions& options, WriteBatch* updates, bool force_flush) {
  Status status = CheckOpen();
  if (!status.ok()) return status;
  Writer w(&mutex_);
  w.batch = updates;
  w.sync = options.sync;
  w.disable_wal = options.disable_wal;

  mutex_.Lock();
  writers_.push_back(&w);
  if (!AwaitTurn(&w)) return w.status;  // a leader wrote our batch

  // We lead. MakeRoomForWrite may wait (releasing the mutex); we stay at the front meanwhile,
  // so no other writer touches the WAL or the memtable.
  status = MakeRoomForWrite(force_flush);
  if (status.ok() && updates != nullptr && !w.disable_wal && wal_syncing_ != 0) {
    if (w.sync) {
      // What we acknowledge as durable must not outlive older writes in a crash: wait for
      // SyncWAL's fsync of this or an older WAL, then sync ours.
      while (wal_syncing_ != 0 && bg_error_.ok()) wal_sync_cv_.Wait();
      status = bg_error_;
    } else if (wal_syncing_ == logfile_number_) {
      status = LeaveWalBeingSynced();
    }
  }
  Writer* last_writer = &w;
  if (status.ok() && updates != nullptr) {
    WriteBatch* group = BuildBatchGroup(&last_writer);
    SequenceNumber last_sequence = versions_->LastSequence();
    WriteBatchInternal::SetSequence(group, last_sequence + 1);
    last_sequence += WriteBatchInternal::Count(*group);
    MemTable* const mem = mem_;
    bool wal_failed = false;
    uint64_t synced_bytes = 0;
    {
      // Followers wait behind us and readers do not need the mutex: release it for the I/O.
      mutex_.Unlock();
      if (!w.disable_wal) {
        status = log_->AddRecord(WriteBatchInternal::Contents(*group));
        if (status.ok() && w.sync) {
          status = logfile_->Sync();
          synced_bytes = log_->FileSize();
        }
        wal_failed = !status.ok();
      }
      if (status.ok()) status = WriteBatchInternal::InsertInto(*group, mem);
      mutex_.Lock();
    }
    if (wal_failed) {
      // The WAL's tail is now unknown: nothing more may be acknowledged until a reopen.
      RecordBackgroundError(status);
    }
    logfile_synced_bytes_ = std::max(logfile_synced_bytes_, synced_bytes);
    if (group == &group_batch_) group_batch_.Clear();
    if (status.ok()) versions_->SetLastSequence(last_sequence);
  }

  while (true) {
    Writer* ready = writers_.front();
    writers_.pop_front();
    if (ready != &w) {
      ready->status = status;
      // Signal before publishing kDone: a writer that sees kDone while spinning returns at
      // once, and its Writer (and condition variable) goes with its stack frame.
      ready->cv.Signal();
      ready->state.store(Writer::kDone, std::memory_order_release);
    }
    if (ready == last_writer) break;
  }
  SignalNextWriter();
  mutex_.Unlock();
  return status;
}

bool DBImpl::AwaitTurn(Writer* w) {
  mutex_.AssertHeld();
  if (writers_.front() == w) return true;
  mutex_.Unlock();
  Writer::State state = PollState(w->state, Writer::kQueued);
  if (state == Writer::kDone) return false;
  mutex_.Lock();
  while ((state = w->state.load(std::memory_order_acquire)) == Writer::kQueued) w->cv.Wait();
  if (state == Writer::kDone) {
    mutex_.Unlock();
    return false;
  }
  return true;
}

void DBImpl::SignalNextWriter() {
  mutex_.AssertHeld();
  if (!writers_.empty()) {
    Writer* next = writers_.front();
    next->cv.Signal();
    next->state.store(Writer::kLeading, std::memory_order_release);
  } else if (shutting_down_.load(std::memory_order_relaxed)) {
    bg_cv_.SignalAll();  // Close waits for the queue to drain
  }
}

Status DBImpl::SyncWAL() {
  Status s = CheckOpen();
  if (!s.ok()) return s;
  MutexLock turn(&sync_wal_mutex_);
  MutexLock l(&mutex_);
  // Before taking a turn in the queue: a WAL for the writers that arrive during the fsync.
  PrepareSpareWal();

  Writer w(&mutex_);
  writers_.push_back(&w);
  AwaitTurn(&w);  // leads: a SyncWAL is never in another writer's group
  // At the front of the queue no leader is appending: every write acknowledged so far is in
  // logfile_ or an older WAL, and those were synced when the WAL switched away from them
  // (SwitchMemTable) or by an earlier SyncWAL (which returned before this one started).
  WritableFile* file = nullptr;
  uint64_t number = 0, size = 0;
  if (shutting_down_.load(std::memory_order_acquire)) {
    s = Status::Aborted("DB is closing");
  } else if (!bg_error_.ok()) {
    s = bg_error_;
  } else if (log_ != nullptr && log_->FileSize() > logfile_synced_bytes_) {
    file = logfile_.get();
    number = logfile_number_;
    size = log_->FileSize();
    wal_syncing_ = number;
  }
  // Leave the queue before the fsync: the writers behind us go on (into the spare WAL).
  writers_.pop_front();
  SignalNextWriter();
  if (file == nullptr) return s;

  mutex_.Unlock();
  s = file->Sync();
  mutex_.Lock();
  std::unique_ptr<WritableFile> sealed;
  if (number == logfile_number_) {
    // Nobody wrote to it meanwhile: it stays the WAL.
    if (s.ok()) logfile_synced_bytes_ = std::max(logfile_synced_bytes_, size);
  } else {
    // Writers moved on to another WAL and left this one to us.
    sealed = std::move(sealed_wal_);
  }
  if (sealed != nullptr) {
    mutex_.Unlock();
    Status close = sealed->Close();
    sealed.reset();
    mutex_.Lock();
    if (s.ok()) s = close;
  }
  wal_syncing_ = 0;
  if (!s.ok()) {
    // Acknowledged writes may be lost with the WAL's tail.
    RecordBackgroundError(s);
  }
  wal_sync_cv_.SignalAll();
  return s;
}

void DBImpl::PrepareSpareWal() {
  mutex_.AssertHeld();
  // Two tries: a memtable switch may take a newer WAL number while the file is made.
  for (int attempt = 0; attempt < 2; ++attempt) {
    // (Close may have run meanwhile: it removes the spare, and no new file may appear after.)
    if (shutting_down_.load(std::memory_order_acquire)) return;
    if (spare_wal_ != nullptr && spare_wal_number_ > logfile_number_) return;
    std::unique_ptr<WritableFile> stale = std::move(spare_wal_);
    const uint64_t stale_number = spare_wal_number_;
    const uint64_t number = versions_->NewFileNumber();
    const std::string fname = WalFileName(dbname_, number);
    std::unique_ptr<WritableFile> file;
    mutex_.Unlock();
    if (stale != nullptr) {
      stale->Close();
      env_->RemoveFile(WalFileName(dbname_, stale_number));
    }
    Status s = env_->NewWritableFile(fname, &file);
    // As for any WAL, its directory entry must be durable before writes are acknowledged in
    // it.
    if (s.ok()) s = env_->SyncDir(dbname_);
    if (!s.ok() && file != nullptr) {
      file->Close();
      file.reset();
    }
    if (!s.ok()) env_->RemoveFile(fname);
    mutex_.Lock();
    if (!s.ok()) {
      info_log_->Log("No spare WAL #%" PRIu64 " (%s): writers wait for SyncWAL's fsync", number,
                     s.ToString().c_str());
      return;
    }
    if (shutting_down_.load(std::memory_order_acquire)) {
      mutex_.Unlock();
      file->Close();
      env_->RemoveFile(fname);
      mutex_.Lock();
      return;
    }
    spare_wal_ = std::move(file);
    spare_wal_number_ = number;
  }
}

bool DBImpl::TakeSpareWal(std::unique_ptr<WritableFile>* file, uint64_t* number) {
  mutex_.AssertHeld();
  if (spare_wal_ == nullptr) return false;
  if (spare_wal_number_ < logfile_number_) {
    // Made while a memtable switch took a newer number: replayed after that WAL, its writes
    // would come out of order. Dropped (by the next PrepareSpareWal).
    return false;
  }
  *file = std::move(spare_wal_);
  *number = spare_wal_number_;
  spare_wal_number_ = 0;
  return true;
}

Status DBImpl::LeaveWalBeingSynced() {
  mutex_.AssertHeld();
  std::unique_ptr<WritableFile> file;
  uint64_t number;
  if (!TakeSpareWal(&file, &number)) {
    while (wal_syncing_ == logfile_number_ && bg_error_.ok()) wal_sync_cv_.Wait();
    return bg_error_;
  }
  // SyncWAL closes the old file after its fsync; the new one continues the same memtable.
  log_.reset();
  sealed_wal_ = std::move(logfile_);
  logfile_ = std::move(file);
  logfile_number_ = number;
  logfile_synced_bytes_ = 0;
  log_ = std::make_unique<log::Writer>(logfile_.get());
  return Status::OK();
}

WriteBatch* DBImpl::BuildBatchGroup(Writer** last_writer) {
  mutex_.AssertHeld();
  Writer* first = writers_.front();
  WriteBatch* result = first->batch;
  size_t size = WriteBatchInternal::ByteSize(*first->batch);
  // Bound the group so that a small write is not delayed behind a huge one.
  size_t max_size = 1 << 20;
  if (size <= (128 << 10)) max_size = size + (128 << 10);

  *last_writer = first;
  for (auto it = writers_.begin() + 1; it != writers_.end(); ++it) {
    Writer* w = *it;
    // A sync write may not ride with a leader that will not sync; a logged write not with an
    // unlogged leader; flush requests end the group.
    if (w->batch == nullptr || (w->sync && !first->sync) || w->disable_wal != first->disable_wal) {
      break;
    }
    size += WriteBatchInternal::ByteSize(*w->batch);
    if (size > max_size) break;
    if (result == first->batch) {
      // Copy into our own batch rather than change the caller's.
      result = &group_batch_;
      result->Clear();
      result->Append(*first->batch);
    }
    result->Append(*w->batch);
    *last_writer = w;
  }
  return result;
}

Status DBImpl::MakeRoomForWrite(bool force) {
  mutex_.AssertHeld();
  bool allow_delay = !force;
  bool stop_logged = false;  // one LOG line per stalled write, not per wake-up
  const bool auto_compact = !options_.disable_auto_compactions;
  while (true) {
    if (!bg_error_.ok()) return bg_error_;
    if (shutting_down_.load(std::memory_order_acquire)) {
      return Status::Aborted("DB is closing");
    }
    const std::shared_ptr<Version> v = versions_->current();
    const int l0_files = v->NumFiles(0);
    const uint64_t pending = v->EstimatedPendingCompactionBytes();
    if (auto_compact && (l0_files >= options_.level0_stop_writes_trigger ||
                         pending >= options_.hard_pending_compaction_bytes_limit)) {
      // Stop: compactions are too far behind. Background work signals bg_cv_ after each job.
      if (!stop_logged) {
        info_log_->Log("Stopping writes: %d level-0 files, %" PRIu64 " pending compaction bytes",
                       l0_files, pending);
        ++stats_.stops;
        stop_logged = true;
      }
      const uint64_t start = env_->NowMicros();
      bg_cv_.Wait();
      stats_.stop_micros += env_->NowMicros() - start;
    } else if (allow_delay && auto_compact &&
               (l0_files >= options_.level0_slowdown_writes_trigger ||
                pending >= options_.soft_pending_compaction_bytes_limit)) {
      // Slow down: give compactions some of the writers' time, once per write, rather than
      // stopping a writer for seconds later.
      ++stats_.slowdown_writes;
      mutex_.Unlock();
      env_->SleepForMicroseconds(1000);
      allow_delay = false;
      mutex_.Lock();
    } else if (!force && mem_->ApproximateMemoryUsage() <= options_.write_buffer_size) {
      return Status::OK();
    } else if (force && mem_->num_entries() == 0) {
      return Status::OK();  // nothing to flush
    } else if (static_cast<int>(imm_.size()) >= options_.max_write_buffer_number - 1) {
      // Every memtable is full and waiting for a flush.
      if (!stop_logged) {
        info_log_->Log("Stopping writes: %zu immutable memtables wait for their flush",
                       imm_.size());
        ++stats_.stops;
        stop_logged = true;
      }
      const uint64_t start = env_->NowMicros();
      bg_cv_.Wait();
      stats_.stop_micros += env_->NowMicros() - start;
    } else {
      Status s = SwitchMemTable();
      if (!s.ok()) return s;
      force = false;
    }
  }
}

Status DBImpl::SwitchMemTable() {
  mutex_.AssertHeld();
  // File I/O without the mutex: as the write leader we alone touch the WAL (SyncWAL, too,
  // waits for its turn in the queue), and no other state changes under us that this function
  // reads.
  std::unique_ptr<WritableFile> file;
  uint64_t new_log_number = 0;
  if (!TakeSpareWal(&file, &new_log_number)) {
    new_log_number = versions_->NewFileNumber();
    const std::string fname = WalFileName(dbname_, new_log_number);
    mutex_.Unlock();
    Status s = env_->NewWritableFile(fname, &file);
    // Writes acknowledged in the new WAL must survive a machine crash, so its directory entry
    // has to be durable before the first of them.
    if (s.ok()) s = env_->SyncDir(dbname_);
    if (!s.ok()) {
      file.reset();
      env_->RemoveFile(fname);
    }
    mutex_.Lock();
    if (!s.ok()) {
      versions_->ReuseFileNumber(new_log_number);
      return s;
    }
  }
  log_.reset();
  if (wal_syncing_ == logfile_number_) {
    // SyncWAL is syncing the old WAL outside the queue: it closes it when done, and writes
    // synced in the new WAL wait for it.
    sealed_wal_ = std::move(logfile_);
  } else {
    // Sync the old WAL too: otherwise a power loss could keep later synced writes (in the
    // new WAL) while losing earlier ones, and recovery would reorder history.
    mutex_.Unlock();
    Status old_wal = logfile_->Sync();
    Status close = logfile_->Close();
    if (old_wal.ok()) old_wal = close;
    mutex_.Lock();
    logfile_.reset();
    if (!old_wal.ok()) {
      // Writes already acknowledged may be lost with the old WAL's tail.
      RecordBackgroundError(old_wal);
    }
  }
  logfile_ = std::move(file);
  log_ = std::make_unique<log::Writer>(logfile_.get());
  logfile_number_ = new_log_number;
  logfile_synced_bytes_ = 0;
  imm_.push_back(ImmMemTable{mem_, mem_log_number_});
  has_imm_.store(true, std::memory_order_release);
  mem_log_number_ = new_log_number;
  mem_ = new MemTable(options_.write_buffer_size);
  mem_->Ref();
  ++mem_switches_;
  InstallSuperVersion();
  bg_work_cv_.SignalAll();
  return Status::OK();
}

void DBImpl::RecordBackgroundError(const Status& s) {
  mutex_.AssertHeld();
  if (!bg_error_.ok() || s.ok()) return;
  bg_error_ = s;
  ++stats_.background_errors;
  info_log_->Log("Background error: %s; writes fail until the DB is reopened",
                 s.ToString().c_str());
  bg_cv_.SignalAll();
  bg_work_cv_.SignalAll();
}

}  // namespace learnkv
