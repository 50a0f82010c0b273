// LearnedTableReader: RocksDB's TableReader over a LearnedTable file (learned_table_format.h).
// Open checks RocksDB's footer (magic number), the tail trailer and its checksum, reads RocksDB's
// table properties and the range tombstones, then opens the learnkv table inside through the
// RocksDB file reader (RocksRandomAccessFile). Point lookups hand every entry of the key to
// GetContext::SaveValue, so snapshots, deletions, merge operands and read callbacks behave as
// with RocksDB's own formats; range tombstones come back through NewRangeTombstoneIterator,
// which RocksDB's table cache and iterators apply. A malformed file yields Corruption.
//
// What the learnkv table fixes per reader (TableOptions: checksums, block cache, filters) is not
// changed per read: BlockBasedTable's per-read ReadOptions::verify_checksums, fill_cache and
// read_tier = kBlockCacheTier (a read without I/O) are not consulted here, so such a read may
// still read the file — answers stay correct.
//
// Thread safety: immutable after Open; Get, MultiGet, NewIterator and the rest may be called
// concurrently (RocksDB's TableReader contract). Each iterator is single-threaded and must be
// destroyed before its reader.
#ifndef LEARNKV_SSTABLE_ROCKSDB_LEARNED_TABLE_READER_H_
#define LEARNKV_SSTABLE_ROCKSDB_LEARNED_TABLE_READER_H_

#include <memory>

#include "db/range_tombstone_fragmenter.h"
#include "sstable/rocksdb/learned_table.h"
#include "sstable/rocksdb/learned_table_format.h"
#include "sstable/table_reader.h"
#include "table/table_builder.h"
#include "table/table_reader.h"

namespace learnkv {

class LearnedTableReader final : public rocksdb::TableReader {
 public:
  // options.table.block_cache is the cache the reader uses (the factory's).
  static rocksdb::Status Open(const rocksdb::TableReaderOptions& tro,
                              const LearnedTableOptions& options,
                              std::unique_ptr<rocksdb::RandomAccessFileReader>&& file,
                              uint64_t file_size, std::unique_ptr<rocksdb::TableReader>* reader);

  ~LearnedTableReader() override;

  // arena: when given, the iterator is placed in it and destroyed without delete.
  rocksdb::InternalIterator* NewIterator(const rocksdb::ReadOptions& read_options,
                                         const rocksdb::SliceTransform* prefix_extractor,
                                         rocksdb::Arena* arena, bool skip_filters,
                                         rocksdb::TableReaderCaller caller,
                                         size_t compaction_readahead_size,
                                         bool allow_unprepared_value) override;
  // nullptr when the table has no range tombstones.
  rocksdb::FragmentedRangeTombstoneIterator* NewRangeTombstoneIterator(
      const rocksdb::ReadOptions& read_options) override;

  rocksdb::Status Get(const rocksdb::ReadOptions& read_options, const rocksdb::Slice& key,
                      rocksdb::GetContext* get_context,
                      const rocksdb::SliceTransform* prefix_extractor, bool skip_filters) override;
  // Drops from the range the keys that the table's filter rules out.
  rocksdb::Status MultiGetFilter(const rocksdb::ReadOptions& read_options,
                                 const rocksdb::SliceTransform* prefix_extractor,
                                 rocksdb::MultiGetContext::Range* mget_range) override;

  // As BlockBasedTable: the data offset, scaled so that the end of the data is the file size
  // (metadata pro-rated over the data).
  uint64_t ApproximateOffsetOf(const rocksdb::Slice& key,
                               rocksdb::TableReaderCaller caller) override;
  uint64_t ApproximateSize(const rocksdb::Slice& start, const rocksdb::Slice& end,
                           rocksdb::TableReaderCaller caller) override;

  void SetupForCompaction() override {}
  std::shared_ptr<const rocksdb::TableProperties> GetTableProperties() const override {
    return tail_.properties;
  }
  // The learnkv reader's (index, model, filter), the range tombstones and the properties.
  size_t ApproximateMemoryUsage() const override;
  // Reads every block from the file, bypassing the block cache, and checks its checksum; and the
  // tail's.
  rocksdb::Status VerifyChecksum(const rocksdb::ReadOptions& read_options,
                                 rocksdb::TableReaderCaller caller) override;

 private:
  LearnedTableReader(const rocksdb::TableReaderOptions& tro, const LearnedTableOptions& options,
                     std::unique_ptr<rocksdb::RandomAccessFileReader>&& file, uint64_t file_size);
  // What follows the learnkv table (learned_table_format.h), read and checked.
  struct Tail {
    uint64_t table_size = 0;
    std::shared_ptr<const rocksdb::TableProperties> properties;
    std::shared_ptr<const rocksdb::FragmentedRangeTombstoneList> range_dels;  // null if none
    size_t range_del_bytes = 0;
  };
  // Reads and checks RocksDB's footer, the tail trailer, the tail's checksum, the range
  // tombstones and the properties.
  rocksdb::Status ReadTail(Tail* tail) const;
  // Opens a learnkv reader over the table's bytes with these options.
  rocksdb::Status OpenTable(const TableOptions& options,
                            std::unique_ptr<learnkv::TableReader>* table) const;
  // Offset of key's data, scaled to the file size.
  uint64_t ScaledOffsetOf(const rocksdb::Slice& key) const;

  // Both outlive the reader (they belong to the column family).
  const rocksdb::ImmutableOptions& ioptions_;
  const rocksdb::InternalKeyComparator& icmp_;
  const LearnedTableOptions options_;
  const std::unique_ptr<rocksdb::RandomAccessFileReader> file_;
  const uint64_t file_size_;
  Tail tail_;
  std::unique_ptr<learnkv::TableReader> table_;  // reads through file_
};

}  // namespace learnkv

#endif  // LEARNKV_SSTABLE_ROCKSDB_LEARNED_TABLE_READER_H_
