// DB: a persistent, ordered map from byte-string keys to byte-string values — learnkv's main
// interface, shaped like LevelDB's and RocksDB's.
//
// Thread safety: a DB is safe for concurrent use by many threads without external locking.
// Iterators and snapshots it returns are used by one thread at a time.
#ifndef LEARNKV_INCLUDE_DB_H_
#define LEARNKV_INCLUDE_DB_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "learnkv/iterator.h"
#include "learnkv/options.h"
#include "learnkv/slice.h"
#include "learnkv/status.h"
#include "learnkv/write_batch.h"

namespace learnkv {

// An immutable view of the DB at one sequence number (DB::GetSnapshot).
class Snapshot {
 protected:
  virtual ~Snapshot() = default;
};

// A key range [start, limit) for CompactRange; an empty Slice pointer means unbounded.
struct Range {
  Slice start;
  Slice limit;
};

class DB {
 public:
  // Opens the DB in directory `name`. On success *dbptr holds it; the DB is closed when the
  // pointer is destroyed (or by Close()). A second process opening the same directory gets
  // IOError (the LOCK file).
  static Status Open(const Options& options, const std::string& name, std::unique_ptr<DB>* dbptr);

  DB() = default;
  DB(const DB&) = delete;
  DB& operator=(const DB&) = delete;
  virtual ~DB();

  virtual Status Put(const WriteOptions& options, const Slice& key, const Slice& value) = 0;
  virtual Status Delete(const WriteOptions& options, const Slice& key) = 0;
  // Applies every update in the batch atomically: after a crash all or none are present.
  virtual Status Write(const WriteOptions& options, WriteBatch* updates) = 0;

  // NotFound if the key is absent (or deleted).
  virtual Status Get(const ReadOptions& options, const Slice& key, std::string* value) = 0;
  // Looks up many keys at once. (*statuses)[i] and (*values)[i] answer keys[i]. Lookups are
  // grouped per table so that the table's model predicts the whole group in one batch.
  virtual void MultiGet(const ReadOptions& options, const std::vector<Slice>& keys,
                        std::vector<std::string>* values, std::vector<Status>* statuses) = 0;

  // An iterator over the DB (forward and backward, Seek, SeekForPrev), reading a consistent
  // snapshot taken when it is created (or options.snapshot). Delete it before the DB.
  virtual std::unique_ptr<Iterator> NewIterator(const ReadOptions& options) = 0;

  virtual const Snapshot* GetSnapshot() = 0;
  virtual void ReleaseSnapshot(const Snapshot* snapshot) = 0;

  // Flushes the memtable to an L0 table.
  virtual Status Flush(const FlushOptions& options) = 0;
  // Compacts every level overlapping [begin, end] (null means unbounded) down to the last
  // level that holds data, and waits for it.
  virtual Status CompactRange(const Slice* begin, const Slice* end) = 0;
  // Waits until no flush or compaction is pending or running.
  virtual Status WaitForCompaction() = 0;

  // Makes every write acknowledged before the call durable, as if each had been written with
  // WriteOptions::sync (for a periodic sync, as Redis's appendfsync everysec). Writers are not
  // held up for the fsync: a write arriving while it runs goes on into a new WAL file. Writes
  // with WriteOptions::sync still wait for it (what they acknowledge must not outlive older
  // writes in a crash). Safe to call from any thread, also concurrently (calls take turns).
  // A failed fsync is a background error: writes fail from then on, as after any WAL error.
  virtual Status SyncWAL() = 0;

  // Properties (false if unknown):
  //   "learnkv.stats"                   — per-level files/bytes, flush and compaction stats,
  //                                       model training times
  //   "learnkv.num-files-at-level<N>"   — number of tables at level N
  //   "learnkv.sstables"                — one line per table: level, number, size, entries,
  //                                       index kind (rmi/block and why), leaves, errors,
  //                                       filter kind and bytes
  //   "learnkv.index-memory"            — bytes of learned/classic indexes of open tables
  //   "learnkv.filter-memory"           — bytes of filters of open tables
  //   "learnkv.num-open-tables"         — table readers open (the table cache's and pinned)
  //   "learnkv.num-pinned-tables"       — readers pinned for lookups, which then skip the
  //                                       table cache (up to a quarter of max_open_files)
  //   "learnkv.filters"                 — per level: tables per filter kind, filter bytes,
  //                                       bits per key, target rates (Monkey), and the
  //                                       missed lookups sampled for learned filters
  //   "learnkv.accel"                   — the simulated accelerator (Options::accelerator):
  //                                       per model kind the batches, items, share offloaded,
  //                                       predicted CPU and simulated device time, break-even
  //                                       batch size; device utilization (simulated), read-path
  //                                       latency per batch with and without the device
  //                                       (predicted), gathering (measured), model fits; each
  //                                       figure says whether it is measured, predicted or
  //                                       simulated. "accelerator: off" when none is set
  //   "learnkv.accel-values"            — the same as name=value lines (docs/accelerator.md)
  //   "learnkv.estimate-num-keys"       — estimated number of keys
  virtual bool GetProperty(const Slice& property, std::string* value) = 0;

  // Estimated bytes of table data in each range.
  virtual void GetApproximateSizes(const Range* ranges, int n, uint64_t* sizes) = 0;

  // Flushes nothing; stops background work, releases the LOCK. Further calls fail.
  virtual Status Close() = 0;
};

// Removes every file of the DB in `name` (and the directory if then empty).
Status DestroyDB(const std::string& name, const Options& options);

}  // namespace learnkv

#endif  // LEARNKV_INCLUDE_DB_H_
