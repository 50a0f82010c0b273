// Helpers shared by the RocksDB plugin's tests: scratch directories, an associative merge
// operator registered by name (so that OPTIONS files name it and reopening restores it), and
// RocksDB options that make a small workload flush and compact often.
//
// Thread safety: the functions are safe to call from one test thread at a time.
#ifndef LEARNKV_TESTS_ROCKSDB_PLUGIN_TEST_UTIL_H_
#define LEARNKV_TESTS_ROCKSDB_PLUGIN_TEST_UTIL_H_

#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>
#include <rocksdb/utilities/object_registry.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "sstable/rocksdb/learned_table.h"

namespace learnkv::rocksdb_test {

// A fresh, empty directory named `name` under $LEARNKV_TEST_TMPDIR (or the system's).
inline std::string ScratchDir(const std::string& name) {
  const char* base = std::getenv("LEARNKV_TEST_TMPDIR");
  std::filesystem::path dir =
      std::filesystem::path(base != nullptr ? base : std::filesystem::temp_directory_path()) /
      ("rocksdb_plugin_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

// Joins operands with ',': order-sensitive, so a merge applied in the wrong order shows.
class AppendOperator : public rocksdb::AssociativeMergeOperator {
 public:
  static const char* kClassName() { return "learnkv.test.Append"; }
  const char* Name() const override { return kClassName(); }
  bool Merge(const rocksdb::Slice& /*key*/, const rocksdb::Slice* existing,
             const rocksdb::Slice& value, std::string* new_value,
             rocksdb::Logger* /*logger*/) const override {
    new_value->clear();
    if (existing != nullptr) {
      new_value->assign(existing->data(), existing->size());
      new_value->push_back(',');
    }
    new_value->append(value.data(), value.size());
    return true;
  }
};

// Makes the operator loadable by name, as the LearnedTable factory is.
inline void RegisterAppendOperator() {
  static const bool registered = [] {
    rocksdb::ObjectLibrary::Default()->AddFactory<rocksdb::MergeOperator>(
        AppendOperator::kClassName(),
        [](const std::string&, std::unique_ptr<rocksdb::MergeOperator>* guard, std::string*) {
          guard->reset(new AppendOperator());
          return guard->get();
        });
    return true;
  }();
  (void)registered;
}

// Options under which a few thousand writes make several flushes and compactions over a few
// levels. table_factory is left to the caller.
inline rocksdb::Options SmallOptions() {
  RegisterAppendOperator();
  rocksdb::Options o;
  o.create_if_missing = true;
  o.merge_operator = std::make_shared<AppendOperator>();
  o.write_buffer_size = 64 << 10;  // RocksDB's minimum
  o.target_file_size_base = 64 << 10;
  o.max_bytes_for_level_base = 256 << 10;
  o.level0_file_num_compaction_trigger = 3;
  o.num_levels = 4;
  o.compression = rocksdb::kLZ4Compression;
  o.bottommost_compression = rocksdb::kZSTD;
  o.max_open_files = -1;
  o.paranoid_checks = true;
  return o;
}

}  // namespace learnkv::rocksdb_test

#endif  // LEARNKV_TESTS_ROCKSDB_PLUGIN_TEST_UTIL_H_
