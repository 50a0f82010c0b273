// Reporting for learnkv-bench: per-thread tallies merged into a benchmark's result, printed as
// db_bench prints it, on one line:
//   readrandom   :       1.234 micros/op 810372 ops/sec 1.234 seconds 1000000 operations;
//   (632000 of 1000000 found)
// plus latency percentiles, a live progress meter, the process's memory and disk figures, the
// simulated accelerator's statistics (--accelerator), and the JSON report (--report_json) that
// bench/compare reads.
//
// Thread safety: ThreadStats belong to one thread. Progress::Add is thread-safe.
#ifndef LEARNKV_TOOLS_BENCH_REPORT_H_
#define LEARNKV_TOOLS_BENCH_REPORT_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "learnkv/status.h"
#include "tools/bench/config.h"
#include "tools/bench/engine.h"
#include "util/histogram.h"

namespace learnkv::bench {

// Seconds on a monotonic clock.
double NowSeconds();

// One thread's tallies for one benchmark.
struct ThreadStats {
  uint64_t ops = 0;    // operations (keys, for MultiGet)
  uint64_t found = 0;  // lookups that found their key
  uint64_t bytes = 0;  // key + value bytes written or read
  double start = 0;    // NowSeconds() at the start and end of the thread's timed loop
  double finish = 0;
  Histogram latency;  // micros per call (--histogram)
};

struct BenchResult {
  std::string name;
  uint64_t ops = 0;
  double seconds = 0;        // wall time, first start to last finish
  double micros_per_op = 0;  // summed thread time per op, as db_bench computes it
  double ops_per_sec = 0;
  uint64_t bytes = 0;
  bool has_found = false;  // a lookup benchmark: found of ops
  uint64_t found = 0;
  std::string extra;  // more of the message (e.g. a writer's count)
  bool has_latency = false;
  Histogram latency;
};

// Merges per-thread tallies into *result (name and extra set by the caller).
void MergeThreadStats(const std::vector<ThreadStats>& threads, bool lookups, bool timed_latency,
                      BenchResult* result);

// db_bench's result line (with its newline) and the percentile line of --histogram.
std::string FormatResultLine(const BenchResult& r);
std::string FormatLatency(const BenchResult& r);

// A progress meter running on its own thread while a benchmark runs: a bar on a terminal
// (stderr), plain lines every --stats_interval_seconds otherwise. Workers Add() their finished
// operations in chunks. Does nothing when --progress_reports is false.
class Progress {
 public:
  Progress(const BenchConfig& config, std::string name, uint64_t expected_ops);
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  ~Progress();  // stops the meter and clears the bar

  void Add(uint64_t n) { done_.fetch_add(n, std::memory_order_relaxed); }

 private:
  void Loop();

  const std::string name_;
  const uint64_t expected_;
  const bool tty_;
  const double interval_;
  std::atomic<uint64_t> done_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// What one engine's run produced, for the summary and the JSON report.
struct EngineReport {
  std::string engine;       // --engine value
  std::string description;  // BenchEngine::Description()
  std::string path;
  std::vector<std::string> notes;
  std::vector<BenchResult> results;
  EngineMemory memory;
  EngineAccelerator accelerator;  // learnkv.accel, read before the engine closed
  uint64_t disk_bytes = 0;
  uint64_t peak_rss_bytes = 0;     // of the process so far
  uint64_t current_rss_bytes = 0;  // when the engine finished, before closing it
};

// Prints the end-of-run memory and disk block of one engine.
std::string FormatEngineSummary(const EngineReport& r);

// "Intel(R) Xeon(R) ..., 2 cores, 23.4 GiB RAM, Linux 6.1.0"; keys for the JSON report.
std::string MachineDescription();

uint64_t PeakRssBytes();
uint64_t CurrentRssBytes();
// Bytes of regular files under path (recursively); 0 if it does not exist.
uint64_t DirectoryBytes(const std::string& path);

// Writes the whole run as JSON.
Status WriteJsonReport(const std::string& file, const BenchConfig& config,
                       const std::string& command_line, const std::vector<EngineReport>& engines);

}  // namespace learnkv::bench

#endif  // LEARNKV_TOOLS_BENCH_REPORT_H_
