// Options for opening a DB, reading and writing. Plain structs: every field has a documented
// default, grouped by purpose, as in LevelDB's options.h.
//
// Thread safety: values; copy freely. The objects they point to (Env, block cache, compaction
// filter) must be thread-safe and outlive every DB that uses them.
#ifndef LEARNKV_INCLUDE_OPTIONS_H_
#define LEARNKV_INCLUDE_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "learnkv/table_options.h"

namespace learnkv {

class CompactionFilter;
class Env;
class Snapshot;

// How recovery treats a damaged write-ahead log.
enum class WalRecoveryMode : uint8_t {
  // A torn record at the tail (a crash mid-write) is dropped and noted in the LOG; damage
  // anywhere else fails Open with Corruption. (Default.)
  kTolerateCorruptedTailRecords,
  // Any damage fails Open.
  kAbsoluteConsistency,
  // Damaged records are skipped wherever they are; the rest is replayed.
  kSkipAnyCorruptedRecords,
};

struct Options {
  // --- Opening ---
  // Create the DB if it is missing. Default: false.
  bool create_if_missing = false;
  // Fail Open if the DB already exists. Default: false.
  bool error_if_exists = false;
  // Check every checksum on every read, and fail Open on any inconsistency. Default: false.
  bool paranoid_checks = false;
  // The environment for files and threads. Default: Env::Default().
  Env* env = nullptr;

  // --- Write path ---
  // Bytes of memtable before it becomes immutable and is flushed to L0 (at least 8 KiB).
  // Default: 64 MiB.
  size_t write_buffer_size = 64 << 20;
  // Memtables (mutable + immutable) allowed before writes stall (at least 2). Default: 2.
  int max_write_buffer_number = 2;
  // What recovery does with a damaged WAL. Default: kTolerateCorruptedTailRecords.
  WalRecoveryMode wal_recovery_mode = WalRecoveryMode::kTolerateCorruptedTailRecords;

  // --- Compaction (leveled) ---
  // Number of L0 files that triggers an L0 -> L1 compaction. Default: 4.
  int level0_file_num_compaction_trigger = 4;
  // L0 files at which writes are slowed (1 ms delay per write batch). Default: 20.
  int level0_slowdown_writes_trigger = 20;
  // L0 files at which writes stop until compaction catches up. Default: 36.
  int level0_stop_writes_trigger = 36;
  // Target size of L1; each deeper level is max_bytes_for_level_multiplier times larger.
  // Default: 256 MiB.
  uint64_t max_bytes_for_level_base = 256ull << 20;
  // Ratio between level size targets. Default: 10.
  double max_bytes_for_level_multiplier = 10;
  // Target size of a table file written by compaction. Default: 64 MiB.
  uint64_t target_file_size_base = 64ull << 20;
  // Pending compaction bytes at which writes slow down / stop. Defaults: 64 GiB / 256 GiB.
  uint64_t soft_pending_compaction_bytes_limit = 64ull << 30;
  uint64_t hard_pending_compaction_bytes_limit = 256ull << 30;
  // Background threads for flushes and compactions. Default: 2.
  int max_background_jobs = 2;
  // Number of levels, 2..7 (Open fails with InvalidArgument otherwise, or if the DB holds
  // tables deeper than this allows). Default: 7.
  int num_levels = 7;
  // Disable automatic compactions (CompactRange still works). Default: false.
  bool disable_auto_compactions = false;
  // Shown the newest version of each key a compaction rewrites, when no snapshot can see it;
  // it may remove the key (compaction_filter.h). Shared, so it lives as long as any DB or
  // Options copy holds it; must be thread-safe. Default: nullptr (keep everything).
  std::shared_ptr<const CompactionFilter> compaction_filter;

  // --- Tables ---
  // Table format options: block size, compression, index kind (learned/block/auto), model
  // options, the block cache (when null, the DB makes its own 8 MiB cache). See
  // table_options.h.
  TableOptions table_options;
  // Table files kept open (a table cache entry holds the file and its decoded model); the
  // table cache holds max_open_files - 10 of them, at least 20. Default: 1000.
  int max_open_files = 1000;

  // --- Filters (the filter of each table is table_options.filter; docs/filters.md) ---
  // Negatives for learned filters, used only when table_options.filter.type is kAuto or
  // kLearned: point lookups (Get, MultiGet) note the keys they look for in a table and do not
  // find there, and each level keeps a uniform sample of at most this many of them (Vitter's
  // reservoir sampling; repeats kept, so keys asked for often weigh more). Every flush and
  // compaction hands its table builds the samples of the output level and the level above,
  // plus keys of the next deeper level's overlapping tables, as the keys the filter should
  // learn to reject. 0 keeps no missed lookups (deeper keys are still used). Default: 4096.
  size_t filter_misses_per_level = 4096;
  // One point lookup in about this many (a thread-local countdown) is examined for misses, so
  // that the read path pays one decrement for the rest. At least 1. Default: 16.
  int filter_miss_sample_interval = 16;
  // Give each level its own filter false-positive rate, as Monkey does (Dayan et al., SIGMOD
  // 2017): for the same filter bits as table_options.filter.target_fpr at every level, lower
  // rates on the small shallow levels (and per table on L0, where every table is probed) and
  // a higher rate on the large last level, which lowers the expected number of tables an
  // absent-key lookup reads. Each flush or compaction gets the rate for its output level from
  // the level sizes at its start (learnkv.filters shows the rates chosen). false: every table
  // gets target_fpr. Default: true.
  bool optimize_filters_for_levels = true;

  // --- Accelerator (simulated; docs/accelerator.md, "In the engine") ---
  // The device the read path's model inferences may be offloaded to: a preset ("tpu-v1",
  // "tpu-v2", "h200") or the path of a device description file (read through env). Each
  // batch of inferences -- a table's RMI predictions for a MultiGet's keys, or a Get's, and a
  // learned filter's classifier scores -- is decided by a cost model (CPU time from a measured
  // calibration, device time simulated) and counted in learnkv.accel. Results never change:
  // every inference is computed on the CPU whatever the decision; only the device's time is
  // simulated. Empty (default): off, and the read path pays one null check.
  std::string accelerator;
  // The CPU calibration the scheduler uses. Loaded if the file exists; otherwise a quick
  // calibration (under a second) runs at Open and is saved there, so it runs once per DB.
  // Remove the file to calibrate again; learnkv-calibrate writes a fuller one. Empty
  // (default): ACCEL_CALIBRATION in the DB directory.
  std::string accel_calibration_file;
  // How long the first Get or MultiGet needing a table's model waits for concurrent lookups
  // of the same table to join its batch, in real microseconds (the wait is added to the
  // lookup and reported as measured). 0 (default): no gathering; each Get is a batch of one.
  uint64_t accel_max_wait_micros = 0;
  // A gathered batch is closed at this many items; a MultiGet's group of at least this many
  // keys in one table is a batch of its own. At least 1. Default: 65536.
  uint64_t accel_batch_cap = 65536;
  // Predicted latency a batch should meet, in microseconds (device queueing included): the
  // faster side meeting it is chosen. 0 (default): none, the faster side wins.
  double accel_latency_target_micros = 0;
  // False: predict and count both sides but always choose the CPU (what the device would have
  // done, without "offloading" anything). Default: true.
  bool accel_offload = true;

  // --- Logging ---
  // Write a LOG file in the DB directory with flushes, compactions and recovery notes.
  // Default: true.
  bool info_log = true;
};

struct ReadOptions {
  // Verify checksums of every block read. Default: true.
  bool verify_checksums = true;
  // Put blocks read by this operation in the block cache. Default: true.
  bool fill_cache = true;
  // Read as of this snapshot (from DB::GetSnapshot); null reads the latest state.
  const Snapshot* snapshot = nullptr;
};

struct WriteOptions {
  // fsync the WAL before acknowledging the write. With false, a machine crash may lose the
  // most recent writes, but a process crash (kill -9) loses nothing acknowledged. Default: false.
  bool sync = false;
  // Skip the WAL (the write is lost on any crash until flushed). Default: false.
  bool disable_wal = false;
};

struct FlushOptions {
  // Wait for the flush to finish. Default: true.
  bool wait = true;
};

}  // namespace learnkv

#endif  // LEARNKV_INCLUDE_OPTIONS_H_
