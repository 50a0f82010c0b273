// LearnedTableFactory: the rocksdb::TableFactory of learned_table.h — its options as RocksDB's
// options machinery sees them (names, parsing, OPTIONS-file sections), option checks, the block
// cache it shares between its readers, and its registration as "LearnedTable" in RocksDB's
// ObjectLibrary, done by a static initializer so that loading the shared library is enough.
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>

#include "rocksdb/comparator.h"
#include "rocksdb/convenience.h"
#include "rocksdb/utilities/object_registry.h"
#include "rocksdb/utilities/options_type.h"
#include "sstable/block_cache.h"
#include "sstable/rocksdb/learned_table.h"
#include "sstable/rocksdb/learned_table_builder.h"
#include "sstable/rocksdb/learned_table_reader.h"

namespace learnkv {

namespace {

const std::unordered_map<std::string, IndexType> kIndexTypes = {
    {"auto", IndexType::kAuto}, {"learned", IndexType::kLearned}, {"block", IndexType::kBlock}};

const std::unordered_map<std::string, FilterType> kFilterTypes = {
    {"none", FilterType::kNone},
    {"bloom", FilterType::kBloom},
    {"fuse", FilterType::kFuse},
    {"auto", FilterType::kAuto},
    {"learned", FilterType::kLearned}};

// Offsets of nested fields within LearnedTableOptions, as RocksDB's option table wants them.
constexpr int TableField(size_t offset) {
  return static_cast<int>(offsetof(LearnedTableOptions, table) + offset);
}

using rocksdb::OptionType;
using rocksdb::OptionTypeFlags;
using rocksdb::OptionTypeInfo;
using rocksdb::OptionVerificationType;

OptionTypeInfo Plain(int offset, OptionType type) {
  return OptionTypeInfo(offset, type, OptionVerificationType::kNormal, OptionTypeFlags::kNone);
}

// The option names of learned_table.h. None is mutable through SetOptions: a reader keeps the
// options it was opened with.
const std::unordered_map<std::string, OptionTypeInfo> kLearnedTableTypeInfo = {
    {"block_size", Plain(TableField(offsetof(TableOptions, block_size)), OptionType::kSizeT)},
    {"index_type",
     OptionTypeInfo::Enum<IndexType>(TableField(offsetof(TableOptions, index_type)), &kIndexTypes)},
    {"max_learned_index_ratio",
     Plain(TableField(offsetof(TableOptions, max_learned_index_ratio)), OptionType::kDouble)},
    {"block_touch_cost",
     Plain(TableField(offsetof(TableOptions, block_touch_cost)), OptionType::kDouble)},
    {"rmi_num_leaves",
     Plain(TableField(offsetof(TableOptions, rmi) + offsetof(RmiOptions, num_leaves)),
           OptionType::kUInt32T)},
    {"rmi_max_bytes_per_key",
     Plain(TableField(offsetof(TableOptions, rmi) + offsetof(RmiOptions, max_bytes_per_key)),
           OptionType::kDouble)},
    {"filter_type", OptionTypeInfo::Enum<FilterType>(
                        TableField(offsetof(TableOptions, filter) + offsetof(FilterOptions, type)),
                        &kFilterTypes)},
    {"filter_fpr",
     Plain(TableField(offsetof(TableOptions, filter) + offsetof(FilterOptions, target_fpr)),
           OptionType::kDouble)},
    {"verify_checksums",
     Plain(TableField(offsetof(TableOptions, verify_checksums)), OptionType::kBoolean)},
    {"fill_cache", Plain(TableField(offsetof(TableOptions, fill_cache)), OptionType::kBoolean)},
    {"use_filters", Plain(TableField(offsetof(TableOptions, use_filters)), OptionType::kBoolean)},
    {"block_cache_size",
     Plain(static_cast<int>(offsetof(LearnedTableOptions, block_cache_size)), OptionType::kSizeT)},
};

class LearnedTableFactory final : public rocksdb::TableFactory {
 public:
  explicit LearnedTableFactory(const LearnedTableOptions& options) : options_(options) {
    RegisterOptions(&options_, &kLearnedTableTypeInfo);
    InitializeCache();
  }

  static const char* kClassName() { return kLearnedTableName; }
  const char* Name() const override { return kClassName(); }

  using rocksdb::TableFactory::NewTableReader;
  rocksdb::Status NewTableReader(const rocksdb::ReadOptions& /*ro*/,
                                 const rocksdb::TableReaderOptions& tro,
                                 std::unique_ptr<rocksdb::RandomAccessFileReader>&& file,
                                 uint64_t file_size,
                                 std::unique_ptr<rocksdb::TableReader>* table_reader,
                                 bool /*prefetch_index_and_filter_in_cache*/) const override {
    return LearnedTableReader::Open(tro, options_, std::move(file), file_size, table_reader);
  }

  rocksdb::TableBuilder* NewTableBuilder(const rocksdb::TableBuilderOptions& tbo,
                                         rocksdb::WritableFileWriter* file) const override {
    return new LearnedTableBuilder(tbo, options_, file);
  }

  bool IsDeleteRangeSupported() const override { return true; }

  // Configuring by name (options strings, OPTIONS files) sets block_cache_size after the
  // constructor made a cache; RocksDB calls this once the options are set.
  rocksdb::Status PrepareOptions(const rocksdb::ConfigOptions& config_options) override {
    InitializeCache();
    return rocksdb::TableFactory::PrepareOptions(config_options);
  }

  rocksdb::Status ValidateOptions(const rocksdb::DBOptions& db_opts,
                                  const rocksdb::ColumnFamilyOptions& cf_opts) const override {
    const rocksdb::Comparator* ucmp = cf_opts.comparator;
    if (ucmp == nullptr || ucmp->timestamp_size() != 0 ||
        strcmp(ucmp->Name(), rocksdb::BytewiseComparator()->Name()) != 0) {
      return rocksdb::Status::InvalidArgument(
          "LearnedTable orders keys bytewise: it needs the bytewise comparator without "
          "timestamps, not",
          ucmp == nullptr ? "nullptr" : ucmp->Name());
    }
    const TableOptions& t = options_.table;
    if (t.block_size == 0 || t.block_size > UINT32_MAX / 2) {
      return rocksdb::Status::InvalidArgument("LearnedTable block_size must be in [1, 2^31)");
    }
    if (!(t.filter.target_fpr > 0 && t.filter.target_fpr < 1)) {
      return rocksdb::Status::InvalidArgument("LearnedTable filter_fpr must be in (0, 1)");
    }
    if (!(t.max_learned_index_ratio >= 0) || !(t.block_touch_cost >= 0) ||
        !(t.rmi.max_bytes_per_key >= 0)) {
      return rocksdb::Status::InvalidArgument(
          "LearnedTable max_learned_index_ratio, block_touch_cost and rmi_max_bytes_per_key "
          "must not be negative");
    }
    return rocksdb::TableFactory::ValidateOptions(db_opts, cf_opts);
  }

  std::string GetPrintableOptions() const override {
    const TableOptions& t = options_.table;
    char buf[1024];
    snprintf(buf, sizeof(buf),
             "  block_size: %zu\n  index_type: %s\n  max_learned_index_ratio: %g\n"
             "  block_touch_cost: %g\n  rmi_num_leaves: %u\n  rmi_max_bytes_per_key: %g\n"
             "  filter_type: %s\n  filter_fpr: %g\n  filter_negatives: %s\n"
             "  verify_checksums: %d\n  fill_cache: %d\n  use_filters: %d\n"
             "  block_cache_size: %zu\n  block_cache: %p (capacity %zu)\n",
             t.block_size, IndexTypeName(t.index_type), t.max_learned_index_ratio,
             t.block_touch_cost, t.rmi.num_leaves, t.rmi.max_bytes_per_key,
             FilterTypeName(t.filter.type), t.filter.target_fpr,
             t.filter.negatives != nullptr ? "set" : "none", t.verify_checksums, t.fill_cache,
             t.use_filters, options_.block_cache_size, static_cast<void*>(t.block_cache.get()),
             t.block_cache != nullptr ? t.block_cache->capacity() : size_t{0});
    return buf;
  }

 private:
  // Makes the cache of block_cache_size bytes unless the user supplied one; remakes it when the
  // size changed since this factory made it.
  void InitializeCache() {
    std::shared_ptr<BlockCache>& cache = options_.table.block_cache;
    if (cache != nullptr && cache != own_cache_) return;  // the user's
    if (options_.block_cache_size == 0) {
      cache.reset();
    } else if (cache == nullptr || cache->capacity() != options_.block_cache_size) {
      cache = std::make_shared<BlockCache>(options_.block_cache_size);
    }
    own_cache_ = cache;
  }

  LearnedTableOptions options_;
  std::shared_ptr<BlockCache> own_cache_;  // the cache this factory made, if any
};

// Registration when the library is loaded (LD_PRELOAD into RocksDB's tools, or linked in).
[[maybe_unused]] const int kRegistered =
    RegisterLearnedTable(*rocksdb::ObjectLibrary::Default(), "");

}  // namespace

rocksdb::TableFactory* NewLearnedTableFactory(const LearnedTableOptions& options) {
  return new LearnedTableFactory(options);
}

int RegisterLearnedTable(rocksdb::ObjectLibrary& library, const std::string& /*arg*/) {
  library.AddFactory<rocksdb::TableFactory>(
      kLearnedTableName,
      [](const std::string& /*uri*/, std::unique_ptr<rocksdb::TableFactory>* guard,
         std::string* /*errmsg*/) {
        guard->reset(new LearnedTableFactory(LearnedTableOptions()));
        return guard->get();
      });
  return 1;
}

}  // namespace learnkv
