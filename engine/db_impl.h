// DBImpl: learnkv's LSM engine behind the DB interface.
//
// Writes queue up in a writer queue; the writer at the front (the leader) appends its own and
// its followers' batches to the WAL as one record (group commit), syncs at most once, inserts
// them into the memtable and acknowledges them. A full memtable becomes immutable and a
// background job flushes it to a level-0 table; leveled compactions, picked by score, run on
// the same pool of background threads (flushes first). Writers slow down and then stop while
// level 0, pending compaction work or the immutable memtables pile up.
//
// Reads take no DB mutex: the current memtables and Version are published together as a
// refcounted SuperVersion, which a read copies under a tiny lock of its own and then searches
// lock-free. With learned filters, about one point lookup in 16 also notes the tables it
// missed (LookupMissSampler), and flushes and compactions hand those keys to their table
// builds as negatives (level_filters.h).
//
// SyncWAL fsyncs the WAL outside the writer queue: it takes its turn in the queue only to
// mark the current WAL as being synced. A leader that then has a batch to log moves on to a
// spare WAL file made ready beforehand and leaves the old one to SyncWAL, which closes it
// after the fsync; so a memtable's writes may span several WAL files, and recovery replays
// every WAL from the MANIFEST's log number on, in order.
//
// Source files: db_impl.cc (reads, snapshots, properties, Close), db_impl_write.cc (the write
// path), db_impl_compaction.cc (background work), db_impl_open.cc (Open, recovery, DestroyDB);
// the simulated accelerator's part of reads and compactions is db_accel.h.
//
// Thread safety: every public method is thread-safe. Members are guarded by mutex_ unless
// noted; see each.
#ifndef LEARNKV_ENGINE_DB_IMPL_H_
#define LEARNKV_ENGINE_DB_IMPL_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/compaction.h"
#include "engine/db_accel.h"
#include "engine/db_stats.h"
#include "engine/info_log.h"
#include "engine/level_filters.h"
#include "engine/log_writer.h"
#include "engine/memtable.h"
#include "engine/table_cache.h"
#include "engine/version_set.h"
#include "learnkv/db.h"
#include "util/mutexlock.h"
#include "util/thread_cached_ptr.h"

namespace learnkv {

class DBImpl final : public DB {
 public:
  DBImpl(const Options& options, const std::string& dbname);
  ~DBImpl() override;

  // DB
  Status Put(const WriteOptions& options, const Slice& key, const Slice& value) override;
  Status Delete(const WriteOptions& options, const Slice& key) override;
  Status Write(const WriteOptions& options, WriteBatch* updates) override;
  Status Get(const ReadOptions& options, const Slice& key, std::string* value) override;
  void MultiGet(const ReadOptions& options, const std::vector<Slice>& keys,
                std::vector<std::string>* values, std::vector<Status>* statuses) override;
  std::unique_ptr<Iterator> NewIterator(const ReadOptions& options) override;
  const Snapshot* GetSnapshot() override;
  void ReleaseSnapshot(const Snapshot* snapshot) override;
  Status Flush(const FlushOptions& options) override;
  Status CompactRange(const Slice* begin, const Slice* end) override;
  Status WaitForCompaction() override;
  Status SyncWAL() override;
  bool GetProperty(const Slice& property, std::string* value) override;
  void GetApproximateSizes(const Range* ranges, int n, uint64_t* sizes) override;
  Status Close() override;

  // Test hooks.
  // Compacts the files of `level` overlapping [begin, end] into level + 1 and waits.
  Status TEST_CompactRange(int level, const Slice* begin, const Slice* end);
  // The background error, if any.
  Status TEST_BackgroundError();
  int TEST_NumImmutableMemTables();

 private:
  friend class DB;

  // A writer waiting in the queue (db_impl_write.cc).
  struct Writer;
  // What a read needs, published as one refcounted unit: the mutable memtable, the immutable
  // ones (newest first) and the current Version. Holding it keeps all of them alive.
  struct SuperVersion {
    SuperVersion(MemTable* mem, std::vector<MemTable*> imm, std::shared_ptr<Version> current);
    ~SuperVersion();
    SuperVersion(const SuperVersion&) = delete;
    SuperVersion& operator=(const SuperVersion&) = delete;
    MemTable* const mem;
    const std::vector<MemTable*> imm;
    const std::shared_ptr<Version> current;
  };
  // An immutable memtable waiting for its flush, and the WAL that holds its writes.
  struct ImmMemTable {
    MemTable* mem;
    uint64_t log_number;
  };
  // A CompactRange round for one level, owned by the waiting caller; a background thread
  // runs it when no other compaction is running, and advances `begin` after each part.
  struct ManualCompaction {
    int level = 0;
    bool done = false;
    bool in_progress = false;
    Status status;
    bool has_begin = false, has_end = false;  // false: unbounded
    std::string begin, end;                   // internal keys
  };
  class SnapshotImpl;

  // ---- db_impl_open.cc
  Status OpenImpl();
  Status NewDB();
  // Replays the WAL files not yet in tables; flushes what they held to level 0 (edit).
  Status RecoverLogFiles(VersionEdit* edit) EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  Status RecoverLogFile(uint64_t number, VersionEdit* edit, MemTable** mem,
                        SequenceNumber* max_sequence) EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  Status CheckTablesExist() EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  // ---- db_impl_write.cc
  // force_flush (updates == nullptr): switch to a new memtable if the current one has data.
  Status WriteImpl(const WriteOptions& options, WriteBatch* updates, bool force_flush);
  WriteBatch* BuildBatchGroup(Writer** last_writer) EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Waits for room in the memtable (slowing down and stopping as configured) and switches
  // to a new memtable when the current one is full (or force).
  Status MakeRoomForWrite(bool force) EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  Status SwitchMemTable() EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Waits, w queued, until w leads (returns true, mutex_ held) or a leader wrote its batch
  // (returns false, mutex_ released). Called with mutex_ held; w->state says which.
  bool AwaitTurn(Writer* w) NO_THREAD_SAFETY_ANALYSIS;
  // Makes the writer now at the front of the queue the leader (or wakes Close, waiting for
  // the queue to drain).
  void SignalNextWriter() EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Makes spare_wal_ a ready WAL file (created, its directory entry synced) unless it is one;
  // releases the mutex for the I/O. Without one (an error), writers wait for SyncWAL's fsync.
  void PrepareSpareWal() EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Hands over spare_wal_ if it may follow the current WAL (a newer number); discards it if
  // not. False when there is none to use.
  bool TakeSpareWal(std::unique_ptr<WritableFile>* file, uint64_t* number)
      EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // The write leader's move off a WAL that SyncWAL is syncing, to the spare WAL (or, without
  // one, a wait for the fsync).
  Status LeaveWalBeingSynced() EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // The first background error sticks: writes fail with it from then on.
  void RecordBackgroundError(const Status& s) EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  // ---- db_impl_compaction.cc
  void StartBackgroundThreads() EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void BackgroundThreadMain();
  // The work one background thread should do next; false if none.
  bool RunOneBackgroundJob() EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  bool NeedsCompaction() const EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void FlushOldestMemTable() EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Writes mem to a new level-0 table and adds it to *edit (nothing for an empty memtable).
  // The table number stays in pending_outputs_ until the caller erases it.
  Status WriteLevel0Table(MemTable* mem, VersionEdit* edit, FileMetaData* meta)
      EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  Status RunCompaction(Compaction* c) EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  Status DoCompactionWork(Compaction* c, std::vector<FileMetaData>* outputs)
      EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  std::unique_ptr<Iterator> MakeCompactionInput(Compaction* c);
  // The levels as a job will leave them, for its filters' rate (OutputFilterPlan): the
  // current level sizes with the job's `keys` (entries) in from_tables tables moved from
  // from_level (-1: a flush's memtable) into output_level.
  std::vector<LevelFilterLoad> JobFilterLoads(int from_level, int from_tables, uint64_t keys,
                                              int output_level) EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void DeleteObsoleteFiles() EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  Status RunManualCompaction(int level, const Slice* begin, const Slice* end);

  // ---- db_impl.cc
  // Publishes the current memtables and Version to readers.
  void InstallSuperVersion() EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  std::shared_ptr<const SuperVersion> GetSuperVersion() const { return super_version_.Get(); }
  SequenceNumber SmallestSnapshot() const EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  Status CheckOpen() const;

  // Constant after construction.
  Env* const env_;
  const Options options_;  // sanitized
  const std::string dbname_;
  std::unique_ptr<InfoLog> info_log_;
  std::unique_ptr<TableCache> table_cache_;
  std::unique_ptr<FileLock> db_lock_;

  std::atomic<bool> shutting_down_{false};
  std::atomic<bool> closed_{false};

  mutable Mutex mutex_;
  CondVar bg_work_cv_;                    // background threads wait here for work
  CondVar bg_cv_;                         // signalled whenever background work finishes a job
  std::unique_ptr<VersionSet> versions_;  // its state is guarded by mutex_

  MemTable* mem_ GUARDED_BY(mutex_) = nullptr;
  std::deque<ImmMemTable> imm_ GUARDED_BY(mutex_);  // oldest first
  uint64_t mem_switches_ GUARDED_BY(mutex_) = 0;    // memtables made immutable
  uint64_t mems_flushed_ GUARDED_BY(mutex_) = 0;    // of which flushed
  bool flush_running_ GUARDED_BY(mutex_) = false;
  // !imm_.empty(), readable without the mutex (a compaction polls it to flush in between).
  std::atomic<bool> has_imm_{false};

  // The WAL. Changed only by the write leader, under mutex_; the leader uses them unlocked.
  std::unique_ptr<WritableFile> logfile_;
  std::unique_ptr<log::Writer> log_;
  uint64_t logfile_number_ GUARDED_BY(mutex_) = 0;        // the WAL written now
  uint64_t mem_log_number_ GUARDED_BY(mutex_) = 0;        // the first WAL holding mem_'s writes
  uint64_t logfile_synced_bytes_ GUARDED_BY(mutex_) = 0;  // of logfile_, known durable

  // SyncWAL's state. Calls take turns on sync_wal_mutex_ (taken before mutex_).
  Mutex sync_wal_mutex_;
  // The WAL that SyncWAL is syncing outside the writer queue (0: none); no leader appends to
  // it meanwhile. Once writers have moved on, the file waits in sealed_wal_ for SyncWAL to
  // close it.
  uint64_t wal_syncing_ GUARDED_BY(mutex_) = 0;
  std::unique_ptr<WritableFile> sealed_wal_ GUARDED_BY(mutex_);
  CondVar wal_sync_cv_;  // signalled when wal_syncing_ returns to 0
  // An empty WAL file, created and its directory entry synced, that the next WAL switch uses.
  std::unique_ptr<WritableFile> spare_wal_ GUARDED_BY(mutex_);
  uint64_t spare_wal_number_ GUARDED_BY(mutex_) = 0;

  std::deque<Writer*> writers_ GUARDED_BY(mutex_);
  WriteBatch group_batch_ GUARDED_BY(mutex_);  // the leader's merged group

  std::multiset<SequenceNumber> snapshots_ GUARDED_BY(mutex_);

  std::vector<std::thread> bg_threads_;  // started in Open, joined in Close
  std::vector<const Compaction*> running_compactions_ GUARDED_BY(mutex_);
  ManualCompaction* manual_compaction_ GUARDED_BY(mutex_) = nullptr;
  // Table numbers being written: not yet in any Version, not to be deleted.
  std::set<uint64_t> pending_outputs_ GUARDED_BY(mutex_);
  Status bg_error_ GUARDED_BY(mutex_);
  DBStats stats_ GUARDED_BY(mutex_);

  // The simulated accelerator's scheduling of the read path's model inferences; null unless
  // options_.accelerator names a device. Set by OpenImpl before any read or background job,
  // constant after; thread-safe itself.
  std::unique_ptr<DBAccelerator> accel_;

  // Missed point lookups per level, for learned filters; null unless the filter type may
  // learn (kAuto, kLearned) and options_.filter_misses_per_level > 0. Thread-safe itself.
  std::unique_ptr<LookupMissSampler> miss_sampler_;

  // Point lookups take it through their thread's slot (no shared write, no lock); iterators
  // and other long holders take a counted copy. Thread-safe itself; published under mutex_.
  ThreadCachedPtr<SuperVersion> super_version_;
};

// Options with out-of-range values clamped, the Env and block cache filled in.
Options SanitizeOptions(const Options& options);

}  // namespace learnkv

#endif  // LEARNKV_ENGINE_DB_IMPL_H_
