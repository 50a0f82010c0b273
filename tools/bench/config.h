// BenchConfig: everything one learnkv-bench run is asked to do, validated once from the command
// line (tools/bench/flags.cc, db_bench's flag names) so that the engine adapters, the key
// generator and the workloads never read gflags themselves.
//
// Thread safety: a plain value, read-only after ConfigFromFlags.
#ifndef LEARNKV_TOOLS_BENCH_CONFIG_H_
#define LEARNKV_TOOLS_BENCH_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "learnkv/status.h"

namespace learnkv::bench {

// --filter: which filter the engine puts in its tables.
enum class FilterKind { kLearned, kBloom, kNone };
const char* FilterKindName(FilterKind kind);  // "learned", "bloom", "none"

struct BenchConfig {
  // --- What to run ---
  std::vector<std::string> engines;     // --engine (comma list, run one after another)
  std::vector<std::string> benchmarks;  // --benchmarks (comma list, run in order)
  std::string db;                       // --db: the DB directory (per engine: <db>/<engine>
                                        // when several engines run)
  bool use_existing_db = false;         // --use_existing_db: keep the DB, skip the fills

  // --- Sizes (per thread, as in db_bench) ---
  uint64_t num = 1000000;   // --num: keys in the key space; fills write this many per thread
  uint64_t reads = 0;       // --reads (default: num)
  uint64_t writes = 0;      // --writes (default: num)
  uint64_t deletes = 0;     // --deletes (default: num)
  int threads = 1;          // --threads
  size_t key_size = 16;     // --key_size
  size_t value_size = 100;  // --value_size
  int batch_size = 1;       // --batch_size: keys per MultiGet / updates per write batch
  int seek_nexts = 0;       // --seek_nexts: Next() calls after each seekrandom Seek

  // --- Keys ---
  std::string key_dist = "uniform";  // --key_dist: uniform | sequential | zipfian | a data set
  double zipf_theta = 0.99;          // --zipf_theta
  uint64_t seed = 1;                 // --seed

  // --- Engine options, applied alike to every engine ---
  std::string compression_type = "none";   // --compression_type: none | lz4 | zstd | snappy
  double compression_ratio = 0.5;          // --compression_ratio of generated values
  int64_t cache_size = 8 << 20;            // --cache_size: block cache bytes (0: none)
  size_t write_buffer_size = 64 << 20;     // --write_buffer_size
  int max_write_buffer_number = 2;         // --max_write_buffer_number
  int bloom_bits = 10;                     // --bloom_bits (filter=bloom, RocksDB's filter)
  FilterKind filter = FilterKind::kBloom;  // --filter
  size_t block_size = 4096;                // --block_size
  int open_files = 1000;                   // --open_files
  int max_background_jobs = 2;             // --max_background_jobs
  int num_levels = 7;                      // --num_levels
  int level0_file_num_compaction_trigger = 4;
  int level0_slowdown_writes_trigger = 20;
  int level0_stop_writes_trigger = 36;
  uint64_t max_bytes_for_level_base = 256ull << 20;
  double max_bytes_for_level_multiplier = 10;
  uint64_t target_file_size_base = 64ull << 20;
  bool disable_auto_compactions = false;
  bool sync = false;         // --sync: fsync the WAL on every write
  bool disable_wal = false;  // --disable_wal

  // --- Simulated accelerator (learnkv only; docs/accelerator.md) ---
  std::string accelerator;             // --accelerator: a preset or device file ("": off)
  uint64_t accel_max_wait_micros = 0;  // --accel_max_wait_micros: gathering wait of Gets
  uint64_t accel_batch_cap = 65536;    // --accel_batch_cap: items per gathered batch

  // --- readwhilewriting ---
  uint64_t benchmark_write_rate_limit = 0;  // bytes/s of its writer thread (0: unlimited)

  // --- Reporting ---
  bool histogram = false;           // --histogram: latency percentiles per benchmark
  std::string report_json;          // --report_json: also write results as JSON to this file
  bool progress_reports = true;     // --progress_reports
  int stats_interval_seconds = 10;  // --stats_interval_seconds: plain progress lines (no tty)
};

// Fills *config from the parsed gflags, checking every value. InvalidArgument names the flag.
Status ConfigFromFlags(BenchConfig* config);

// Splits "a,b,,c" into {"a", "b", "c"}.
std::vector<std::string> SplitCommaList(const std::string& s);

}  // namespace learnkv::bench

#endif  // LEARNKV_TOOLS_BENCH_CONFIG_H_
