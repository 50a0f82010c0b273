// learnkv-bench: db_bench for learnkv. It speaks db_bench's flags and output lines and runs
// learnkv and RocksDB (Debian's librocksdb, BlockBasedTable) on the same workload:
//
//   learnkv-bench --engine=learnkv,rocksdb --num=1000000 --histogram
//       --benchmarks=fillrandom,readrandom,readmissing,seekrandom
//   learnkv-bench --engine=rocksdb --use_existing_db --db=/tmp/kv --benchmarks=readrandom
//
// With several engines each gets its own directory <db>/<engine> and runs the whole list in
// turn. tools/bench/workloads.h defines each benchmark; bench/compare drives repeated runs and
// writes docs/benchmarks.md.
#include <gflags/gflags.h>

#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "tools/bench/config.h"
#include "tools/bench/engine.h"
#include "tools/bench/key_space.h"
#include "tools/bench/report.h"
#include "tools/bench/workloads.h"

namespace learnkv::bench {
namespace {

int Main(const std::string& command_line) {
  BenchConfig config;
  Status s = ConfigFromFlags(&config);
  if (!s.ok()) {
    fprintf(stderr, "learnkv-bench: %s\n", s.ToString().c_str());
    return 1;
  }
  // Fail fast on an engine this build cannot run, before generating keys.
  for (const std::string& e : config.engines) {
    s = CheckEngineAvailable(e);
    if (!s.ok()) {
      fprintf(stderr, "learnkv-bench: %s\n", s.ToString().c_str());
      return 1;
    }
  }

  const double start = NowSeconds();
  std::unique_ptr<KeySpace> keys;
  s = KeySpace::Create(config, &keys);
  if (!s.ok()) {
    fprintf(stderr, "learnkv-bench: key space: %s\n", s.ToString().c_str());
    return 1;
  }
  if (NowSeconds() - start > 1) {
    fprintf(stderr, "learnkv-bench: key space ready in %.1f s\n", NowSeconds() - start);
  }
  if (keys->adjusted() > 0) {
    fprintf(stderr,
            "learnkv-bench: warning: %" PRIu64
            " keys of --key_dist=%s tie after truncation to "
            "%zu bytes and were made unique; a larger --key_size keeps the data set as it is\n",
            keys->adjusted(), config.key_dist.c_str(), config.key_size);
  }

  std::vector<EngineReport> reports;
  WorkloadRunner runner(config, *keys);
  for (const std::string& engine : config.engines) {
    const std::string path = config.engines.size() == 1 ? config.db : config.db + "/" + engine;
    reports.emplace_back();
    s = runner.Run(engine, path, &reports.back());
    if (!s.ok()) {
      fprintf(stderr, "learnkv-bench: %s: %s\n", engine.c_str(), s.ToString().c_str());
      return 1;
    }
    if (config.engines.size() > 1) printf("\n");
  }
  if (!config.report_json.empty()) {
    s = WriteJsonReport(config.report_json, config, command_line, reports);
    if (!s.ok()) {
      fprintf(stderr, "learnkv-bench: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace
}  // namespace learnkv::bench

int main(int argc, char** argv) {
  std::string command_line;
  for (int i = 0; i < argc; ++i) {
    if (i > 0) command_line += ' ';
    command_line += argv[i];
  }
  gflags::SetUsageMessage(
      "db_bench-style benchmarks of learnkv and RocksDB.\n"
      "  learnkv-bench --engine=learnkv,rocksdb --benchmarks=fillrandom,readrandom --num=1000000");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return learnkv::bench::Main(command_line);
}
