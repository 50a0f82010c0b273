#include "tools/bench/engine.h"

#include <algorithm>

#include "learned/filter_bloom.h"

namespace learnkv::bench {

namespace {

Status NotAvailable(const std::string& name) {
  if (name == "rocksdb-learned") {
    return Status::NotSupported(
        "--engine=rocksdb-learned is not in this build",
        "it needs the RocksDB table-format plugin, built when RocksDB's source headers are "
        "there (scripts/fetch-rocksdb-source.sh, then configure again; sstable/rocksdb/)");
  }
  return Status::InvalidArgument("unknown engine", name);
}

#ifdef LEARNKV_BENCH_LEARNED_TABLE
constexpr bool kHaveLearnedTable = true;
#else
constexpr bool kHaveLearnedTable = false;
#endif

}  // namespace

double BloomBitsFpr(int bloom_bits) {
  const int bits = std::max(1, bloom_bits);
  return BloomFilter::ExpectedFpr(bits, BloomFilter::BestProbes(bits));
}

Status CheckEngineAvailable(const std::string& name) {
  if (name == "learnkv" || name == "rocksdb") return Status::OK();
  if (name == "rocksdb-learned" && kHaveLearnedTable) return Status::OK();
  return NotAvailable(name);
}

Status OpenEngine(const std::string& name, const BenchConfig& config, const std::string& path,
                  std::unique_ptr<BenchEngine>* engine) {
  if (name == "learnkv") return OpenLearnkvEngine(config, path, engine);
  if (name == "rocksdb") return OpenRocksDbEngine(config, path, engine);
#ifdef LEARNKV_BENCH_LEARNED_TABLE
  if (name == "rocksdb-learned") return OpenRocksDbLearnedEngine(config, path, engine);
#endif
  return NotAvailable(name);
}

Status DestroyEngine(const std::string& name, const BenchConfig& config, const std::string& path) {
  if (name == "learnkv") return DestroyLearnkvEngine(config, path);
  if (name == "rocksdb") return DestroyRocksDbEngine(config, path);
#ifdef LEARNKV_BENCH_LEARNED_TABLE
  if (name == "rocksdb-learned") return DestroyRocksDbLearnedEngine(config, path);
#endif
  return NotAvailable(name);
}

}  // namespace learnkv::bench
