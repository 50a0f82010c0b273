// LearnedTable: learnkv's table format (learned index, learned or classic filter; sstable/) as a
// RocksDB table format. A RocksDB user keeps RocksDB and swaps the table format:
//
//   options.table_factory.reset(learnkv::NewLearnedTableFactory(opts));
//
// or names it in an options string or OPTIONS file, once this library is linked or loaded
// (loading liblearnkv_rocksdb.so registers the factory from a static initializer, so RocksDB's
// own tools use it through LD_PRELOAD):
//
//   table_factory=LearnedTable
//   table_factory={id=LearnedTable;index_type=learned;filter_type=fuse;block_cache_size=64M}
//   [TableOptions/LearnedTable "default"]   (an OPTIONS file section, one option per line)
//
// The options below are the option names; an unknown name or value is an error, never a silent
// fallback to BlockBasedTable. Compression follows RocksDB's own options (compression,
// compression_per_level, bottommost_compression): LZ4 and ZSTD are used as such; learnkv has no
// Snappy, zlib, bzip2 or XPRESS, so those are written as LZ4 (the table properties' compression
// name says what was used). The user comparator must be RocksDB's bytewise comparator, without
// timestamps: learnkv's model and blocks order keys bytewise.
//
// This header uses only RocksDB's public headers. The file layout is drawn in
// learned_table_format.h.
//
// Thread safety: a factory is immutable once configured and may be shared by many DBs and
// column families; its block cache is thread-safe. Its readers and builders follow RocksDB's
// TableReader (concurrent reads) and TableBuilder (one writer) contracts.
#ifndef LEARNKV_SSTABLE_ROCKSDB_LEARNED_TABLE_H_
#define LEARNKV_SSTABLE_ROCKSDB_LEARNED_TABLE_H_

#include <rocksdb/table.h>

#include <cstddef>
#include <string>

#include "learnkv/table_options.h"

namespace rocksdb {
class ObjectLibrary;
}  // namespace rocksdb

namespace learnkv {

// The factory's name: its id in options strings and OPTIONS files, and its Name().
inline constexpr char kLearnedTableName[] = "LearnedTable";

struct LearnedTableOptions {
  // For TableFactory::GetOptions<LearnedTableOptions>().
  static const char* kName() { return "LearnedTableOptions"; }

  // learnkv's table options (include/learnkv/table_options.h), with their defaults, except
  // `compression` and `zstd_level`, which RocksDB's compression options replace (see above).
  // As option names:
  //   block_size                table.block_size
  //   index_type                table.index_type: auto | learned | block
  //   max_learned_index_ratio   table.max_learned_index_ratio
  //   block_touch_cost          table.block_touch_cost
  //   rmi_num_leaves            table.rmi.num_leaves
  //   rmi_max_bytes_per_key     table.rmi.max_bytes_per_key
  //   filter_type               table.filter.type: none | bloom | fuse | auto | learned
  //   filter_fpr                table.filter.target_fpr
  //   verify_checksums          table.verify_checksums
  //   fill_cache                table.fill_cache
  //   use_filters               table.use_filters
  // table.filter.negatives (the learned filter's negative keys) and table.block_cache can only
  // be set in code. Reads use these for the table's whole life: RocksDB's per-read
  // ReadOptions::verify_checksums and fill_cache are not consulted.
  TableOptions table;

  // Capacity in bytes of the block cache the factory creates for its readers when
  // table.block_cache is null; 0: no block cache (each read decompresses a private copy).
  // Option name block_cache_size. Default 8 MiB, RocksDB 7.8's default for BlockBasedTable.
  size_t block_cache_size = size_t{8} << 20;
};

// A new LearnedTable factory; the caller owns it (rocksdb::Options::table_factory.reset(...)).
rocksdb::TableFactory* NewLearnedTableFactory(
    const LearnedTableOptions& options = LearnedTableOptions());

// Adds the "LearnedTable" factory to `library`; a rocksdb::RegistrarFunc, for
// ObjectRegistry::AddLibrary. Returns the number of factories added (1). Loading
// liblearnkv_rocksdb.so, or linking this plugin, already registers it with
// rocksdb::ObjectLibrary::Default().
int RegisterLearnedTable(rocksdb::ObjectLibrary& library, const std::string& arg);

}  // namespace learnkv

#endif  // LEARNKV_SSTABLE_ROCKSDB_LEARNED_TABLE_H_
