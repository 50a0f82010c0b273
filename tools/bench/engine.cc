#include "tools/bench/engine.h"

namespace learnkv::bench {

namespace {

Status NotAvailable(const std::string& name) {
  if (name == "rocksdb-learned") {
    return Status::NotSupported(
        "--engine=rocksdb-learned is not available yet",
        "it needs the RocksDB TableFactory plugin with learnkv's table format (open issue); "
        "use --engine=rocksdb or --engine=learnkv");
  }
  return Status::InvalidArgument("unknown engine", name);
}

}  // namespace

Status CheckEngineAvailable(const std::string& name) {
  if (name == "learnkv" || name == "rocksdb") return Status::OK();
  return NotAvailable(name);
}

Status OpenEngine(const std::string& name, const BenchConfig& config, const std::string& path,
                  std::unique_ptr<BenchEngine>* engine) {
  if (name == "learnkv") return OpenLearnkvEngine(config, path, engine);
  if (name == "rocksdb") return OpenRocksDbEngine(config, path, engine);
  return NotAvailable(name);
}

Status DestroyEngine(const std::string& name, const BenchConfig& config, const std::string& path) {
  if (name == "learnkv") return DestroyLearnkvEngine(config, path);
  if (name == "rocksdb") return DestroyRocksDbEngine(config, path);
  return NotAvailable(name);
}

}  // namespace learnkv::bench
