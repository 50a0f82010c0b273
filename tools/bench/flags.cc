// learnkv-bench's command-line flags. The names, and where it makes sense the defaults, are
// db_bench's, so that a RocksDB user's command line works unchanged; ConfigFromFlags turns them
// into a checked BenchConfig.

#include <gflags/gflags.h>
#include <unistd.h>

#include <cstdio>
#include <set>

#include "tools/bench/config.h"
#include "util/datasets.h"

DEFINE_string(engine, "learnkv",
              "learnkv | rocksdb | rocksdb-learned, or a comma list of them to run the same "
              "benchmarks on each engine in turn (each in its own <db>/<engine> directory)");
DEFINE_string(benchmarks, "fillrandom,readrandom",
              "Comma list, run in order: fillseq, fillrandom, overwrite, readrandom, readmissing, "
              "readseq, readreverse, seekrandom, multireadrandom, deleterandom, readwhilewriting, "
              "compact, waitforcompaction, stats, levelstats");
DEFINE_string(db, "", "DB directory (default: /tmp/learnkv-bench-<uid>)");
DEFINE_bool(use_existing_db, false,
            "Open the existing DB instead of a fresh one; fills are skipped");

DEFINE_int64(num, 1000000, "Keys in the key space; each fill thread writes this many");
DEFINE_int64(reads, -1, "Reads per thread (-1: --num)");
DEFINE_int64(writes, -1, "Writes per thread for fills and overwrite (-1: --num)");
DEFINE_int64(deletes, -1, "Deletes per thread for deleterandom (-1: --num)");
DEFINE_int32(threads, 1, "Threads running each benchmark (readwhilewriting adds one writer)");
DEFINE_int32(key_size, 16, "Bytes per key (at least 8)");
DEFINE_int32(value_size, 100, "Bytes per value");
DEFINE_int32(batch_size, 1, "Keys per MultiGet (multireadrandom) and updates per write batch");
DEFINE_int32(seek_nexts, 0, "Next() calls after each Seek in seekrandom");

DEFINE_string(key_dist, "uniform",
              "uniform, sequential or zipfian (integer keys 0..num-1, big-endian), or a data set "
              "of util/datasets.h: uniform_dense, uniform_sparse, normal, lognormal, osm, ycsb, "
              "url, random_binary, long_prefix (keys padded/truncated to --key_size)");
DEFINE_double(zipf_theta, 0.99, "Skew of --key_dist=zipfian, in (0, 1)");
DEFINE_uint64(seed, 1, "Seed of key choices, values and data sets");

DEFINE_string(compression_type, "none", "none | lz4 | zstd | snappy (RocksDB only)");
DEFINE_double(compression_ratio, 0.5, "Compressibility of generated values");
DEFINE_int64(cache_size, 8 << 20, "Block cache bytes (0: no cache)");
DEFINE_int64(write_buffer_size, 64 << 20, "Memtable bytes before a flush");
DEFINE_int32(max_write_buffer_number, 2, "Memtables before writes stall");
DEFINE_int32(bloom_bits, 10, "Bits per key of Bloom filters (--filter=bloom)");
DEFINE_string(filter, "bloom", "learned | bloom | none");
DEFINE_int32(block_size, 4096, "Target data block bytes");
DEFINE_int32(open_files, 1000, "Table files kept open");
DEFINE_int32(max_background_jobs, 2, "Background flush and compaction threads");
DEFINE_int32(num_levels, 7, "LSM levels");
DEFINE_int32(level0_file_num_compaction_trigger, 4, "L0 files that trigger a compaction");
DEFINE_int32(level0_slowdown_writes_trigger, 20, "L0 files that slow writes");
DEFINE_int32(level0_stop_writes_trigger, 36, "L0 files that stop writes");
DEFINE_uint64(max_bytes_for_level_base, 256ull << 20, "Target bytes of L1");
DEFINE_double(max_bytes_for_level_multiplier, 10, "Size ratio between levels");
DEFINE_uint64(target_file_size_base, 64ull << 20, "Target bytes of a compaction output file");
DEFINE_bool(disable_auto_compactions, false, "No automatic compactions");
DEFINE_bool(sync, false, "fsync the WAL on every write");
DEFINE_bool(disable_wal, false, "Write without a WAL");

DEFINE_string(accelerator, "",
              "learnkv: schedule the read path's model inferences on a simulated accelerator: "
              "tpu-v1, tpu-v2, h200 or a device description file (docs/accelerator.md). "
              "Results are computed on the CPU; the device's time is simulated and reported "
              "(learnkv.accel) at the end. Empty: off");
DEFINE_uint64(accel_max_wait_micros, 0,
              "With --accelerator: how long a Get waits for concurrent Gets of the same table "
              "to join its batch (0: no gathering)");
DEFINE_uint64(accel_batch_cap, 65536, "With --accelerator: items at most per gathered batch");

DEFINE_uint64(benchmark_write_rate_limit, 0,
              "Bytes/s of readwhilewriting's writer thread (0: as fast as it can)");

DEFINE_bool(histogram, false,
            "Print latency percentiles (p50, p95, p99, p99.9, max) per benchmark");
DEFINE_string(report_json, "", "Also write every result as JSON to this file");
DEFINE_bool(progress_reports, true, "Show progress: a bar on a terminal, plain lines otherwise");
DEFINE_int32(stats_interval_seconds, 10, "Seconds between plain progress lines (not a terminal)");

namespace learnkv::bench {

namespace {

Status Bad(const char* flag, const std::string& why) {
  return Status::InvalidArgument(std::string("--") + flag, why);
}

}  // namespace

const char* FilterKindName(FilterKind kind) {
  switch (kind) {
    case FilterKind::kLearned:
      return "learned";
    case FilterKind::kBloom:
      return "bloom";
    case FilterKind::kNone:
      return "none";
  }
  return "?";
}

std::vector<std::string> SplitCommaList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

Status ConfigFromFlags(BenchConfig* c) {
  static const std::set<std::string> kEngines = {"learnkv", "rocksdb", "rocksdb-learned"};
  static const std::set<std::string> kBenchmarks = {
      "fillseq",          "fillrandom",  "overwrite",         "readrandom",      "readmissing",
      "readseq",          "readreverse", "seekrandom",        "multireadrandom", "deleterandom",
      "readwhilewriting", "compact",     "waitforcompaction", "stats",           "levelstats"};

  c->engines = SplitCommaList(FLAGS_engine);
  if (c->engines.empty()) return Bad("engine", "is empty");
  for (const std::string& e : c->engines) {
    if (!kEngines.count(e)) return Bad("engine", "unknown engine '" + e + "'");
  }
  c->benchmarks = SplitCommaList(FLAGS_benchmarks);
  for (const std::string& b : c->benchmarks) {
    if (!kBenchmarks.count(b)) return Bad("benchmarks", "unknown benchmark '" + b + "'");
  }
  c->db = FLAGS_db.empty() ? "/tmp/learnkv-bench-" + std::to_string(getuid()) : FLAGS_db;
  c->use_existing_db = FLAGS_use_existing_db;

  if (FLAGS_num < 1) return Bad("num", "must be at least 1");
  c->num = FLAGS_num;
  c->reads = FLAGS_reads < 0 ? c->num : FLAGS_reads;
  c->writes = FLAGS_writes < 0 ? c->num : FLAGS_writes;
  c->deletes = FLAGS_deletes < 0 ? c->num : FLAGS_deletes;
  if (FLAGS_threads < 1 || FLAGS_threads > 1024) return Bad("threads", "must be in [1, 1024]");
  c->threads = FLAGS_threads;
  if (FLAGS_key_size < 8 || FLAGS_key_size > 1024) return Bad("key_size", "must be in [8, 1024]");
  c->key_size = FLAGS_key_size;
  if (FLAGS_value_size < 0 || FLAGS_value_size > (64 << 20)) {
    return Bad("value_size", "must be in [0, 64 MiB]");
  }
  c->value_size = FLAGS_value_size;
  if (FLAGS_batch_size < 1 || FLAGS_batch_size > 1 << 16) {
    return Bad("batch_size", "must be in [1, 65536]");
  }
  c->batch_size = FLAGS_batch_size;
  if (FLAGS_seek_nexts < 0) return Bad("seek_nexts", "must be >= 0");
  c->seek_nexts = FLAGS_seek_nexts;

  c->key_dist = FLAGS_key_dist;
  Dataset d;
  if (c->key_dist != "uniform" && c->key_dist != "sequential" && c->key_dist != "zipfian" &&
      !ParseDataset(c->key_dist, &d)) {
    return Bad("key_dist", "unknown distribution '" + c->key_dist + "'");
  }
  if (!(FLAGS_zipf_theta > 0 && FLAGS_zipf_theta < 1))
    return Bad("zipf_theta", "must be in (0, 1)");
  c->zipf_theta = FLAGS_zipf_theta;
  c->seed = FLAGS_seed;

  c->compression_type = FLAGS_compression_type;
  if (c->compression_type != "none" && c->compression_type != "lz4" &&
      c->compression_type != "zstd" && c->compression_type != "snappy") {
    return Bad("compression_type", "must be none, lz4, zstd or snappy");
  }
  if (!(FLAGS_compression_ratio > 0 && FLAGS_compression_ratio <= 1)) {
    return Bad("compression_ratio", "must be in (0, 1]");
  }
  c->compression_ratio = FLAGS_compression_ratio;
  if (FLAGS_cache_size < 0) return Bad("cache_size", "must be >= 0");
  c->cache_size = FLAGS_cache_size;
  if (FLAGS_write_buffer_size < 4096) return Bad("write_buffer_size", "must be >= 4096");
  c->write_buffer_size = FLAGS_write_buffer_size;
  if (FLAGS_max_write_buffer_number < 2) return Bad("max_write_buffer_number", "must be >= 2");
  c->max_write_buffer_number = FLAGS_max_write_buffer_number;
  if (FLAGS_bloom_bits < 1 || FLAGS_bloom_bits > 64) return Bad("bloom_bits", "must be in [1, 64]");
  c->bloom_bits = FLAGS_bloom_bits;
  if (FLAGS_filter == "learned") {
    c->filter = FilterKind::kLearned;
  } else if (FLAGS_filter == "bloom") {
    c->filter = FilterKind::kBloom;
  } else if (FLAGS_filter == "none") {
    c->filter = FilterKind::kNone;
  } else {
    return Bad("filter", "must be learned, bloom or none");
  }
  if (FLAGS_block_size < 256) return Bad("block_size", "must be >= 256");
  c->block_size = FLAGS_block_size;
  if (FLAGS_open_files < 10) return Bad("open_files", "must be >= 10");
  c->open_files = FLAGS_open_files;
  if (FLAGS_max_background_jobs < 1) return Bad("max_background_jobs", "must be >= 1");
  c->max_background_jobs = FLAGS_max_background_jobs;
  if (FLAGS_num_levels < 2 || FLAGS_num_levels > 20) return Bad("num_levels", "must be in [2, 20]");
  c->num_levels = FLAGS_num_levels;
  c->level0_file_num_compaction_trigger = FLAGS_level0_file_num_compaction_trigger;
  c->level0_slowdown_writes_trigger = FLAGS_level0_slowdown_writes_trigger;
  c->level0_stop_writes_trigger = FLAGS_level0_stop_writes_trigger;
  if (!(c->level0_file_num_compaction_trigger >= 1 &&
        c->level0_file_num_compaction_trigger <= c->level0_slowdown_writes_trigger &&
        c->level0_slowdown_writes_trigger <= c->level0_stop_writes_trigger)) {
    return Bad("level0_*_trigger", "need 1 <= compaction <= slowdown <= stop");
  }
  c->max_bytes_for_level_base = FLAGS_max_bytes_for_level_base;
  c->max_bytes_for_level_multiplier = FLAGS_max_bytes_for_level_multiplier;
  if (!(c->max_bytes_for_level_multiplier > 1)) {
    return Bad("max_bytes_for_level_multiplier", "must be > 1");
  }
  c->target_file_size_base = FLAGS_target_file_size_base;
  if (c->target_file_size_base < 4096) return Bad("target_file_size_base", "must be >= 4096");
  c->disable_auto_compactions = FLAGS_disable_auto_compactions;
  c->sync = FLAGS_sync;
  c->disable_wal = FLAGS_disable_wal;
  if (c->sync && c->disable_wal) return Bad("sync", "cannot be combined with --disable_wal");

  c->accelerator = FLAGS_accelerator;
  c->accel_max_wait_micros = FLAGS_accel_max_wait_micros;
  if (FLAGS_accel_max_wait_micros > 1000000) {
    return Bad("accel_max_wait_micros", "must be at most 1000000 (one second)");
  }
  if (FLAGS_accel_batch_cap < 1) return Bad("accel_batch_cap", "must be at least 1");
  c->accel_batch_cap = FLAGS_accel_batch_cap;

  c->benchmark_write_rate_limit = FLAGS_benchmark_write_rate_limit;
  c->histogram = FLAGS_histogram;
  c->report_json = FLAGS_report_json;
  c->progress_reports = FLAGS_progress_reports;
  if (FLAGS_stats_interval_seconds < 1) return Bad("stats_interval_seconds", "must be >= 1");
  c->stats_interval_seconds = FLAGS_stats_interval_seconds;
  return Status::OK();
}

}  // namespace learnkv::bench
