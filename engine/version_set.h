// Version and VersionSet: which tables make up the DB.
//
// A Version is one immutable state of the LSM tree: the table files of every level (level 0
// files may overlap and are ordered oldest to newest; deeper levels are sorted and disjoint).
// It answers point lookups, batched lookups and builds the per-level iterators of the read
// path. Versions are shared through std::shared_ptr: a reader or compaction holding one keeps
// its files alive (they are deleted only when no live Version lists them).
//
// The VersionSet owns the current Version and the MANIFEST, the log of VersionEdits from which
// Recover() rebuilds the current Version at Open. LogAndApply() writes an edit to the MANIFEST
// (creating a fresh MANIFEST, and switching CURRENT to it, on first use or after an error) and
// installs the result. It also hands out file numbers, keeps the last sequence number and
// picks compactions (compaction.h).
//
// Thread safety: a Version is immutable after construction and safe to share between threads.
// VersionSet methods REQUIRE the DB mutex (given at construction) unless noted; each asserts it
// for the lock analysis, which cannot see that the DB's mutex_ and this mu_ are one mutex.
// LastSequence() is lock-free. LogAndApply releases the mutex while writing the MANIFEST and
// serializes concurrent callers itself.
#ifndef LEARNKV_ENGINE_VERSION_SET_H_
#define LEARNKV_ENGINE_VERSION_SET_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/info_log.h"
#include "engine/log_writer.h"
#include "engine/table_cache.h"
#include "engine/version_edit.h"
#include "learnkv/iterator.h"
#include "learnkv/options.h"
#include "learnkv/status.h"
#include "util/mutexlock.h"

namespace learnkv {

class Compaction;
class DBAccelerator;
class LookupMissSampler;
class VersionSet;

using FileList = std::vector<std::shared_ptr<const FileMetaData>>;

// Index of the first file in `files` (sorted, disjoint) whose largest key is >= internal_key;
// files.size() if none.
size_t FindFile(const FileList& files, const Slice& internal_key);

// One key of a DB::MultiGet on its way through the levels.
struct MultiGetKey {
  Slice user_key;
  Slice lookup_key;  // internal key: user_key at the read's sequence, kValueTypeForSeek
  std::string* value;
  Status* status;
  bool done = false;
  bool sample_misses = false;  // report the tables this key misses (LookupMissSampler)
  bool missed_l0 = false;      // an L0 miss was reported (once per lookup and level)
};

class Version {
 public:
  const FileList& files(int level) const { return files_[level]; }
  int NumFiles(int level) const { return static_cast<int>(files_[level].size()); }
  uint64_t NumLevelBytes(int level) const;

  // Looks up the newest entry for the user key of lookup_key visible at its sequence:
  // OK with *value, NotFound (absent or deleted), or the read error. With misses, every level
  // with a table that was searched and did not hold the key is reported to it (once). With
  // accel, each table's filter score and model prediction is accounted as a batch of one
  // (DBAccelerator::TableGet).
  Status Get(TableCache* cache, const Slice& lookup_key, std::string* value,
             LookupMissSampler* misses = nullptr, DBAccelerator* accel = nullptr) const;

  // Resolves every key of *keys that is not yet done, newest data first; each table is asked
  // once for all of its keys (TableReader::MultiGet). REQUIRES: *keys sorted by user key.
  // Keys that no table holds are left not done. The misses of keys marked sample_misses are
  // reported to `misses` as Get does. With accel, each table's keys are one batch of filter
  // scores and model predictions (DBAccelerator::BeforeMultiGet).
  void MultiGet(TableCache* cache, std::vector<MultiGetKey*>* keys,
                LookupMissSampler* misses = nullptr, DBAccelerator* accel = nullptr) const;

  // Appends iterators over this Version's internal keys: one per level-0 table, newest first,
  // then one concatenating iterator per deeper level. They use this Version's file lists: the
  // caller keeps the Version alive until the iterators are gone.
  void AddIterators(TableCache* cache, const TableReadOptions& read,
                    std::vector<std::unique_ptr<Iterator>>* iters) const;

  // Whether some file at level overlaps the user-key range [smallest, largest]; null means
  // unbounded.
  bool OverlapInLevel(int level, const Slice* smallest_user_key,
                      const Slice* largest_user_key) const;

  // The files at level overlapping the user-key range [begin, end] (null: unbounded). At level 0
  // the range grows to cover every file that overlaps a chosen one, as they may overlap each
  // other.
  FileList GetOverlappingInputs(int level, const Slice* begin, const Slice* end) const;

  // Approximate byte offset of internal_key within the whole DB's table data.
  uint64_t ApproximateOffsetOf(TableCache* cache, const Slice& internal_key) const;

  // Compaction urgency per level (>= 1 means the level needs compaction) and the estimated
  // bytes compactions must rewrite to bring every level under its target, for backpressure.
  double CompactionScore(int level) const { return compaction_score_[level]; }
  uint64_t EstimatedPendingCompactionBytes() const { return pending_compaction_bytes_; }

  // "files[ 2 4 0 ... ]".
  std::string LevelSummary() const;

 private:
  friend class VersionSet;
  Version() = default;

  // For Get's search of a level deeper than 0: the index of the table that may hold
  // user_key (whose 8-byte order prefix is key_prefix), or files_[level].size() if none can.
  size_t FindTableFor(int level, const Slice& lookup_key, const Slice& user_key,
                      uint64_t key_prefix) const;

  FileList files_[kNumLevels];
  // Per level deeper than 0, the OrderPrefix64 of each file's smallest and largest user key,
  // in file order: a point lookup searches these contiguous integers and reads a file's key
  // strings (each a cache miss of its own) only on a tie.
  std::vector<uint64_t> smallest_prefix_[kNumLevels];
  std::vector<uint64_t> largest_prefix_[kNumLevels];
  double compaction_score_[kNumLevels] = {};
  uint64_t pending_compaction_bytes_ = 0;
};

class VersionSet {
 public:
  // options must be sanitized (DBImpl) and outlive the VersionSet, as must mu, the cache and
  // the log.
  VersionSet(std::string dbname, const Options* options, TableCache* table_cache, InfoLog* info_log,
             Mutex* mu);
  VersionSet(const VersionSet&) = delete;
  VersionSet& operator=(const VersionSet&) = delete;
  ~VersionSet();

  // Writes the MANIFEST and CURRENT of an empty DB. No mutex needed (Open, before any thread).
  static Status CreateNew(Env* env, const std::string& dbname);

  // Rebuilds the current Version from CURRENT and its MANIFEST. Errors name the file.
  Status Recover();

  // Applies *edit to the current Version, records it in the MANIFEST (synced) and installs the
  // result. Fills in the edit's log number (unless set), next file number and last sequence.
  // Releases the mutex during the I/O; concurrent callers wait their turn.
  // REQUIRES: mu is the mutex given at construction (passed so that the caller's lock
  // analysis sees it released and reacquired).
  Status LogAndApply(VersionEdit* edit, Mutex* mu) EXCLUSIVE_LOCKS_REQUIRED(mu);

  std::shared_ptr<Version> current() const {
    mu_->AssertHeld();
    return current_;
  }

  uint64_t NewFileNumber() {
    mu_->AssertHeld();
    return next_file_number_++;
  }
  // Gives back the number just taken by NewFileNumber, when the file was not created.
  void ReuseFileNumber(uint64_t number) {
    mu_->AssertHeld();
    if (next_file_number_ == number + 1) next_file_number_ = number;
  }
  void MarkFileNumberUsed(uint64_t number) {
    mu_->AssertHeld();
    if (next_file_number_ <= number) next_file_number_ = number + 1;
  }
  // The MANIFEST that CURRENT names (older ones are obsolete).
  uint64_t ManifestFileNumber() const {
    mu_->AssertHeld();
    return manifest_file_number_;
  }
  // WAL files older than this are no longer needed.
  uint64_t LogNumber() const {
    mu_->AssertHeld();
    return log_number_;
  }

  // The sequence number of the newest acknowledged write. Lock-free (acquire): every write up
  // to it is in a memtable or table of the current state.
  SequenceNumber LastSequence() const { return last_sequence_.load(std::memory_order_acquire); }
  void SetLastSequence(SequenceNumber s) {
    mu_->AssertHeld();
    last_sequence_.store(s, std::memory_order_release);
  }

  // Adds the numbers of the tables of every live Version.
  void AddLiveFiles(std::set<uint64_t>* live);

  // Target bytes of a level (level >= 1).
  uint64_t MaxBytesForLevel(int level) const;
  int num_levels() const { return options_->num_levels; }

  // The most urgent automatic compaction that does not conflict with `running`, or null.
  std::unique_ptr<Compaction> PickCompaction(const std::vector<const Compaction*>& running);
  // A compaction of the files at level overlapping [begin, end] (internal keys; null means
  // unbounded) into level + 1, or null if there are none. Deeper than level 0 the inputs stop
  // after about 25 target file sizes; the caller continues after the last input's largest key.
  std::unique_ptr<Compaction> CompactRange(int level, const Slice* begin, const Slice* end);

 private:
  class Builder;

  void Finalize(Version* v) const;
  // Pins the readers of v's tables numbered in `numbers` (all of them when null), as far as
  // the TableCache allows, into their FileMetaData. REQUIRES: v is not yet shared, so its
  // files' metadata can be replaced; and no lock, as this may open tables.
  void PinTables(Version* v, const std::set<uint64_t>* numbers) const;
  // Fills inputs[1] and the grandparents of a compaction whose inputs[0] are set, and moves
  // the level's compact pointer past it.
  void SetupOtherInputs(Compaction* c) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::unique_ptr<Compaction> PickLevel(int level, const std::vector<const Compaction*>& running)
      EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes a MANIFEST record describing the whole current state.
  Status WriteSnapshot(log::Writer* log) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AppendVersion(std::shared_ptr<Version> v) EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Env* const env_;
  const std::string dbname_;
  const Options* const options_;
  TableCache* const table_cache_;
  InfoLog* const info_log_;
  Mutex* const mu_;

  uint64_t next_file_number_ GUARDED_BY(mu_) = 2;
  uint64_t manifest_file_number_ GUARDED_BY(mu_) = 0;
  uint64_t log_number_ GUARDED_BY(mu_) = 0;
  std::atomic<SequenceNumber> last_sequence_{0};

  std::shared_ptr<Version> current_ GUARDED_BY(mu_);
  // Every Version handed out, to find live files; expired entries are pruned when listed.
  std::vector<std::weak_ptr<Version>> versions_ GUARDED_BY(mu_);
  // Where the next compaction of each level starts (internal key; empty: at the start).
  std::string compact_pointer_[kNumLevels] GUARDED_BY(mu_);

  // The open MANIFEST (null until the first LogAndApply, or after a write to it failed).
  std::unique_ptr<WritableFile> descriptor_file_ GUARDED_BY(mu_);
  std::unique_ptr<log::Writer> descriptor_log_ GUARDED_BY(mu_);
  bool manifest_busy_ GUARDED_BY(mu_) = false;
  CondVar manifest_cv_;
};

}  // namespace learnkv

#endif  // LEARNKV_ENGINE_VERSION_SET_H_
