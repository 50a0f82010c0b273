// Workloads: runs the --benchmarks list, in order, on one engine, as db_bench defines each
// benchmark. Sizes are per thread, as in db_bench: each of --threads threads does --reads
// lookups, --writes writes or --deletes deletes; fills cover --num keys.
//
//   fillseq           fresh DB; thread t writes --writes consecutive keys from t*num/threads
//   fillrandom        fresh DB; each thread writes --writes keys chosen by --key_dist (with
//                     repeats, so about 63% of the key space for uniform keys)
//   overwrite         fillrandom on the existing DB
//   readrandom        Get of keys chosen by --key_dist; "(found of reads found)"
//   readmissing       Get of absent keys inside the key range (none should be found)
//   readseq           a forward scan of --reads entries per thread
//   readreverse       a backward scan of --reads entries per thread
//   seekrandom        Seek to a chosen key, then --seek_nexts Next(); found = exact key hit
//   multireadrandom   MultiGet of --batch_size chosen keys per call; ops count keys
//   deleterandom      Delete of chosen keys
//   readwhilewriting  readrandom on --threads threads while one more thread Puts chosen keys,
//                     one at a time (at --benchmark_write_rate_limit bytes/s); reports the
//                     readers, and the writer's count in the message
//   compact           compacts the whole key range; waitforcompaction waits for background work
//   stats, levelstats the engine's statistics and per-level files
// --batch_size > 1 also groups the writes of fills and overwrite into write batches. Every
// random choice is seeded by (--seed, benchmark position, thread), so two engines see exactly
// the same keys.
//
// Thread safety: a WorkloadRunner is driven by one thread; it starts and joins its workers.
#ifndef LEARNKV_TOOLS_BENCH_WORKLOADS_H_
#define LEARNKV_TOOLS_BENCH_WORKLOADS_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "learnkv/status.h"
#include "tools/bench/config.h"
#include "tools/bench/engine.h"
#include "tools/bench/key_space.h"
#include "tools/bench/report.h"

namespace learnkv::bench {

class WorkloadRunner {
 public:
  WorkloadRunner(const BenchConfig& config, const KeySpace& keys);

  // Opens engine `engine` at `path` (fresh unless --use_existing_db), runs every benchmark,
  // printing results to stdout, and fills *report. Stops at the first error.
  Status Run(const std::string& engine, const std::string& path, EngineReport* report);

 private:
  // One worker's loop: runs with its own tallies, polling `stop` between operations.
  using ThreadBody =
      std::function<Status(int tid, uint64_t seed, ThreadStats* stats, Progress* progress)>;

  Status OpenFresh();
  Status Open();
  Status RunOne(const std::string& name, size_t position, EngineReport* report);
  // Runs body on `threads` threads started together and merges their tallies into *result.
  Status RunThreads(const std::string& name, int threads, uint64_t expected_ops, bool lookups,
                    size_t position, const ThreadBody& body, BenchResult* result);

  Status DoWrite(bool sequential, int tid, uint64_t seed, ThreadStats* stats, Progress* progress);
  Status DoRead(bool missing, int tid, uint64_t seed, ThreadStats* stats, Progress* progress);
  Status DoMultiRead(int tid, uint64_t seed, ThreadStats* stats, Progress* progress);
  Status DoSeek(int tid, uint64_t seed, ThreadStats* stats, Progress* progress);
  Status DoScan(bool reverse, ThreadStats* stats, Progress* progress);
  Status DoDelete(int tid, uint64_t seed, ThreadStats* stats, Progress* progress);
  Status ReadWhileWriting(size_t position, BenchResult* result);
  Status TimeOnce(const std::string& name, const std::function<Status()>& fn, BenchResult* r);

  void PrintHeader(const EngineReport& report) const;

  const BenchConfig& config_;
  const KeySpace& keys_;
  std::string engine_name_;
  std::string path_;
  std::unique_ptr<BenchEngine> engine_;
  std::atomic<bool> stop_{false};  // set by the first failing worker
};

}  // namespace learnkv::bench

#endif  // LEARNKV_TOOLS_BENCH_WORKLOADS_H_
