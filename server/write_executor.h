// WriteExecutor: the one thread that changes user keys. I/O threads hand it groups of write
// commands; it runs them in order against a WriteView (so a read-modify-write command such as
// INCR or SET NX is atomic without key locks), writes everything it ran since the last commit
// as one WriteBatch, and only then lets each group reply. Groups that queue up while a commit
// is in progress go into the next batch together: group commit, one WAL write (and one fsync
// under --sync=always) for many clients.
//
// Durability modes: kAlways syncs every batch before any reply; kEverySec writes without sync
// and a background thread syncs the WAL once a second when something was written, with
// DB::SyncWAL, which lets writes go on while the fsync runs (they go into the next WAL file);
// kNo leaves syncing to the OS. In every mode a reply is sent only after its batch is in the
// WAL, so a killed process (kill -9) loses no acknowledged write. Stop() runs what is queued
// and syncs.
//
// Thread safety: Submit() may be called from any thread. Start/Stop from the owner only.
#ifndef LEARNKV_SERVER_WRITE_EXECUTOR_H_
#define LEARNKV_SERVER_WRITE_EXECUTOR_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "learnkv/db.h"
#include "server/keyspace.h"
#include "util/mutexlock.h"

namespace learnkv {
namespace server {

enum class SyncMode { kAlways, kEverySec, kNo };

// Parses "always", "everysec" or "no".
bool ParseSyncMode(std::string_view s, SyncMode* mode);
const char* SyncModeName(SyncMode mode);

// A unit of work for the writer thread, built by an I/O thread.
class WriteGroup {
 public:
  virtual ~WriteGroup() = default;
  // Runs the group's commands against view, in order (writer thread).
  virtual void Execute(WriteView* view) = 0;
  // Called once the batch holding the group's updates is committed (or failed to be), on the
  // writer thread. Ownership stays with the caller; hand the group back to its I/O thread.
  virtual void Finish(std::unique_ptr<WriteGroup> self, const Status& commit) = 0;
};

class WriteExecutor {
 public:
  WriteExecutor(DB* db, SyncMode mode);
  WriteExecutor(const WriteExecutor&) = delete;
  WriteExecutor& operator=(const WriteExecutor&) = delete;
  ~WriteExecutor();  // Stop()s

  void Start();
  // Runs every queued group, syncs the WAL, and ends the threads. Groups submitted afterwards
  // are finished at once with an error.
  void Stop();

  void Submit(std::unique_ptr<WriteGroup> group);

  // Runs and commits `group` on the calling thread when that cannot block on an fsync or
  // overtake queued groups: not under kAlways (its commit would fsync), nothing queued, the
  // writer idle. (A periodic WAL sync in progress does not hold the commit up: SyncWAL syncs
  // outside the DB's writer queue.) Then returns true with the commit's outcome in *commit,
  // and the caller (not Finish) delivers the replies. Otherwise returns false and the caller
  // Submit()s it. This saves two thread hand-offs per batch; the price is that an engine
  // write stall (L0 slowdown) is felt by the calling loop.
  bool TryRunInline(WriteGroup* group, Status* commit);

  SyncMode mode() const { return mode_; }
  // Statistics for INFO.
  uint64_t batches() const { return batches_.load(std::memory_order_relaxed); }
  uint64_t syncs() const { return syncs_.load(std::memory_order_relaxed); }
  uint64_t last_sync_unix() const { return last_sync_unix_.load(std::memory_order_relaxed); }
  bool last_write_ok() const { return last_write_ok_.load(std::memory_order_relaxed); }
  // Whether the last periodic (or final) WAL sync succeeded; true before the first.
  bool last_sync_ok() const { return last_sync_ok_.load(std::memory_order_relaxed); }

 private:
  void WriterLoop();
  void SyncerLoop();
  // DB::SyncWAL, counted for INFO.
  Status SyncWal();

  DB* const db_;
  const SyncMode mode_;

  Mutex mu_;
  CondVar cv_;       // wakes the writer: queue_ changes and stop_
  CondVar stop_cv_;  // wakes the syncer: stop_
  std::deque<std::unique_ptr<WriteGroup>> queue_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  bool started_ = false;
  // Held while a batch is built and committed (writer thread or TryRunInline): one builder
  // at a time keeps read-modify-write commands atomic. Taken before mu_ when both are held.
  std::mutex exec_mu_;

  std::atomic<bool> dirty_{false};  // written since the last sync
  std::atomic<uint64_t> batches_{0};
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> last_sync_unix_{0};
  std::atomic<bool> last_write_ok_{true};
  std::atomic<bool> last_sync_ok_{true};

  std::thread writer_;
  std::thread syncer_;
};

}  // namespace server
}  // namespace learnkv

#endif  // LEARNKV_SERVER_WRITE_EXECUTOR_H_
